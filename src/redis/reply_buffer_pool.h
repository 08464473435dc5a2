// ReplyBufferPool: the storage of reply strings, handed back for reuse by the thread that
// converts the replies (the JS thread) to the thread that parses them (a connection manager's
// I/O thread).
//
// Without it every string reply of a few KiB is a malloc on the I/O thread and a free on the
// JS thread. Freed in bursts, a batch at a time, those blocks merge into the free top of the
// I/O thread's glibc arena, which glibc then gives back to the kernel (madvise) as soon as it
// passes the trim threshold, only for the next batch to fault the same pages in again: with
// 4 KiB values at 128 in flight that churn cost more CPU than everything else together.
// Reused buffers never go back to the allocator while the traffic lasts.
//
// Take: one thread (the parser's) at a time. Give: any thread. The pool keeps at most
// kMaxBytes of buffers given back and not yet taken, and the parser's own stock (what it took
// in one swap) is at most as much again; what the pool does not keep is freed as usual. Kept
// buffers live as long as the pool (the client), also once traffic stops.
#ifndef NCM_REDIS_REPLY_BUFFER_POOL_H_
#define NCM_REDIS_REPLY_BUFFER_POOL_H_

#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ncm::redis {

class ReplyBufferPool {
 public:
  // Strings shorter than this are left to the allocator (its per-thread caches serve them
  // well), and so are buffers larger than kMaxBuffer.
  static constexpr size_t kMinBuffer = 256;
  static constexpr size_t kMaxBuffer = 64 * 1024;
  static constexpr size_t kMaxBytes = 2 * 1024 * 1024;

  // Whether a string of `size` bytes should be stored in a pooled buffer.
  static bool Pooled(size_t size) { return size >= kMinBuffer && size <= kMaxBuffer; }

  // Parser thread: an empty string, with the storage of an earlier reply when there is one.
  std::string Take() {
    if (local_.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      local_.swap(shared_);
      shared_bytes_ = 0;
    }
    if (local_.empty()) return std::string();
    std::string out = std::move(local_.back());
    local_.pop_back();
    out.clear();
    return out;
  }

  // Takes the buffers of `strings` that are worth keeping, as far as there is room; the
  // caller frees the rest (and clears the vector).
  void Give(std::vector<std::string>* strings) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::string& s : *strings) {
      const size_t capacity = s.capacity();
      if (!Pooled(capacity) || shared_bytes_ + capacity > kMaxBytes) continue;
      shared_bytes_ += capacity;
      shared_.push_back(std::move(s));
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> shared_;  // given back, guarded by mutex_
  size_t shared_bytes_ = 0;          // capacity held in shared_
  std::vector<std::string> local_;   // parser thread only: taken from shared_ in one swap
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_REPLY_BUFFER_POOL_H_
