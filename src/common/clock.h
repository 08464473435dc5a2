// Wall-clock milliseconds since the epoch. Expiry times are absolute epoch ms because
// the public API (`ttl(key)`) reports them that way, exactly like cache-manager.
#ifndef NCM_COMMON_CLOCK_H_
#define NCM_COMMON_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace ncm {

inline int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace ncm

#endif  // NCM_COMMON_CLOCK_H_
