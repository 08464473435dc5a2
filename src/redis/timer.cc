#include "redis/timer.h"

#include <memory>
#include <utility>

namespace ncm::redis {

struct Timer::Handle {
  uv_timer_t timer;
  std::function<void()> on_fire;
  bool closing = false;
};

Timer::Timer(uv_loop_t* loop, std::function<void()> on_fire) {
  auto handle = std::make_unique<Handle>();
  handle->on_fire = std::move(on_fire);
  uv_timer_init(loop, &handle->timer);
  handle->timer.data = handle.get();
  handle_ = handle.release();  // freed in ~Timer's close callback
}

Timer::~Timer() {
  // The callback is kept until the close callback: the timer may be destroyed from inside it.
  handle_->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { std::unique_ptr<Handle> owned(static_cast<Handle*>(h->data)); });
}

void Timer::Start(uint64_t timeout_ms, uint64_t repeat_ms) {
  uv_timer_start(
      &handle_->timer,
      [](uv_timer_t* t) {
        auto* handle = static_cast<Handle*>(t->data);
        if (!handle->closing) handle->on_fire();
      },
      timeout_ms, repeat_ms);
}

void Timer::Stop() { uv_timer_stop(&handle_->timer); }

}  // namespace ncm::redis
