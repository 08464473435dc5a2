// Outbox: completions on their way to the Sink, batched per turn of the loop. Whatever the
// units of one loop iteration complete (a read that answers a thousand requests, a timer
// that fails a hundred) leaves in one Sink::Deliver call: a prepare handle flushes what the
// timers completed before the loop polls, a check handle what I/O completed after it. The
// units never need to know where a call chain started to batch well.
//
// A batch also leaves as soon as it holds about kFlushBytes of replies: one poll can read
// megabytes (large values, many in flight), and the JS thread should start converting the
// first replies while the I/O thread reads the rest, not wait for the whole turn.
//
// Loop thread only. Its handles are unreferenced: they never keep the loop alive.
#ifndef NCM_REDIS_OUTBOX_H_
#define NCM_REDIS_OUTBOX_H_

#include <uv.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "redis/request.h"

namespace ncm::redis {

class Sink;

class Outbox {
 public:
  // `sink` must outlive the outbox.
  Outbox(uv_loop_t* loop, Sink* sink);
  ~Outbox();  // closes its handles (what is still queued is dropped: Flush first)
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Moves `completion` into the batch.
  void Push(Completion&& completion) {
    bytes_ += kPerCompletionBytes + (completion.reply ? completion.reply->str.size() : 0);
    items_.push_back(std::move(completion));
    if (bytes_ >= kFlushBytes) Flush();
  }
  // Delivers what is queued now (also done on every turn of the loop).
  void Flush();

 private:
  struct Hooks;
  Hooks* hooks_;  // owned; freed by libuv's close callbacks after ~Outbox closes them
  // About one socket read's worth (64 KiB); the per-completion part stands for headers and
  // the JS values made for each.
  static constexpr size_t kFlushBytes = 64 * 1024;
  static constexpr size_t kPerCompletionBytes = 48;
  // At most this many completions' room is reserved again after a flush (see Flush).
  static constexpr size_t kReserveMax = 512;

  Sink* const sink_;
  std::vector<Completion> items_;
  size_t bytes_ = 0;  // in items_, as counted by Push
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_OUTBOX_H_
