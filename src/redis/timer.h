// Timer: a libuv timer with the lifetime of an ordinary C++ object. It may be destroyed at
// any time on its loop's thread, also from inside its own callback: the uv_timer_t lives on
// the heap until libuv's close callback frees it, and a destroyed timer never fires.
//
// Loop thread only (the thread that runs `loop`).
#ifndef NCM_REDIS_TIMER_H_
#define NCM_REDIS_TIMER_H_

#include <uv.h>

#include <cstdint>
#include <functional>

namespace ncm::redis {

class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)starts: fires after `timeout_ms`, then every `repeat_ms` when that is not 0.
  void Start(uint64_t timeout_ms, uint64_t repeat_ms = 0);
  void Stop();

 private:
  struct Handle;
  Handle* handle_;  // owned; freed by libuv's close callback after ~Timer closes it
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_TIMER_H_
