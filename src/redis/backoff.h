// Backoff: how long to wait before the next connect attempt while Redis keeps failing.
// Capped exponential (base * 2^(n-1) after the n-th failure in a row, at most max_ms) with
// jitter in [delay/2, delay], so a fleet does not reconnect in lockstep. Attempts start at
// least one step apart: time the failed attempt already spent waiting (a connect timeout
// into a partition) counts toward the step. Pure: no clock, no libuv.
//
// One thread only (the I/O thread of the endpoint that owns it).
#ifndef NCM_REDIS_BACKOFF_H_
#define NCM_REDIS_BACKOFF_H_

#include <cstdint>

namespace ncm::redis {

class Backoff {
 public:
  // `seed` drives the jitter (any value; 0 is replaced).
  Backoff(uint32_t base_ms, uint32_t max_ms, uint64_t seed);

  // Failed attempts since the last success.
  uint32_t failures() const { return failures_; }

  // A reply proved the connection works: the next loss reconnects at once.
  void Reset() { failures_ = 0; }

  // After losing a connection that worked: true when nothing failed since the last success,
  // and then counts this loss as the first failure (reconnect at once, back off if it fails).
  bool TakeImmediateRetry();

  // Counts one more failure and returns the wait before the next attempt, less `waited_ms`
  // (how long the failed attempt itself took).
  uint64_t NextDelay(uint64_t waited_ms);

 private:
  uint64_t NextRandom();

  const uint32_t base_ms_;
  const uint32_t max_ms_;
  uint32_t failures_ = 0;
  uint64_t rng_state_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_BACKOFF_H_
