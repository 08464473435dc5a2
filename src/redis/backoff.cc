#include "redis/backoff.h"

#include <algorithm>

namespace ncm::redis {

Backoff::Backoff(uint32_t base_ms, uint32_t max_ms, uint64_t seed)
    : base_ms_(base_ms), max_ms_(max_ms), rng_state_(seed != 0 ? seed : 1) {}

bool Backoff::TakeImmediateRetry() {
  if (failures_ != 0) return false;
  failures_ = 1;
  return true;
}

uint64_t Backoff::NextRandom() {
  // xorshift64: cheap, and good enough to spread a fleet's reconnects.
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  return rng_state_;
}

uint64_t Backoff::NextDelay(uint64_t waited_ms) {
  ++failures_;
  uint64_t delay = base_ms_;
  for (uint32_t i = 1; i < failures_ && delay < max_ms_; ++i) delay *= 2;
  delay = std::min<uint64_t>(delay, max_ms_);
  delay = delay / 2 + NextRandom() % (delay / 2 + 1);
  return delay > waited_ms ? delay - waited_ms : 0;
}

}  // namespace ncm::redis
