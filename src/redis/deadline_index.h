// DeadlineIndex: every request with a deadline, waiting to be written or in flight, ordered
// by that deadline (ties by admission order), so one timer can always target the earliest
// whatever the mix of per-call timeouts. Pure: no clock, no libuv; the caller passes `now`.
//
// The index holds pointers, never ownership: a request must be removed before it is freed.
// One thread only (the I/O thread of the endpoint that owns it).
#ifndef NCM_REDIS_DEADLINE_INDEX_H_
#define NCM_REDIS_DEADLINE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>

#include "redis/request.h"

namespace ncm::redis {

// A request that waits for its reply as long as it takes.
inline constexpr uint64_t kNoDeadline = std::numeric_limits<uint64_t>::max();

class DeadlineIndex {
 public:
  // Tracks `request` by its deadline_ms (set by the caller); one without a deadline
  // (kNoDeadline) or already tracked is left alone. Sets request->seq and ->tracked.
  void Add(Request* request);
  // Stops tracking `request` (nothing happens when it is not tracked).
  void Remove(Request* request);

  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }
  // The earliest deadline, or kNoDeadline when nothing is tracked.
  uint64_t Earliest() const;

  // Calls fn(const Request&) for every request whose deadline is <= now, earliest first.
  // `fn` must not add or remove requests.
  template <typename Fn>
  void ForEachExpired(uint64_t now, Fn fn) const {
    for (auto it = keys_.begin(); it != keys_.end() && it->deadline_ms <= now; ++it) {
      fn(static_cast<const Request&>(*it->request));
    }
  }

 private:
  struct Key {
    uint64_t deadline_ms;
    uint64_t seq;
    Request* request;
    bool operator<(const Key& other) const {
      return deadline_ms != other.deadline_ms ? deadline_ms < other.deadline_ms : seq < other.seq;
    }
  };
  std::set<Key> keys_;
  uint64_t next_seq_ = 1;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_DEADLINE_INDEX_H_
