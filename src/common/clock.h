// Wall-clock milliseconds since the epoch. Expiry times are absolute epoch ms because
// the public API (`ttl(key)`) reports them that way, exactly like cache-manager.
//
// Reading CLOCK_REALTIME costs ~28 ns on this kind of VM (kvm-clock), a fifth of a whole
// `get`; CLOCK_REALTIME_COARSE costs ~4 ns but lags by up to one tick (4 ms). Callers on
// the hot path pass the coarse reading and `Entry::expired` consults the precise clock
// only for entries that expire within that slack, so expiry stays exact.
#ifndef NCM_COMMON_CLOCK_H_
#define NCM_COMMON_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace ncm {

// Upper bound on how far the coarse clock lags the precise one, in ms.
inline constexpr int64_t kCoarseClockSlackMs = 10;

inline int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Never ahead of NowMs(); behind it by less than kCoarseClockSlackMs. Where there is no
// coarse clock (macOS), the precise one: slower, never wrong.
inline int64_t CoarseNowMs() {
#ifdef CLOCK_REALTIME_COARSE
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
#else
  return NowMs();
#endif
}

}  // namespace ncm

#endif  // NCM_COMMON_CLOCK_H_
