#include "redis/outbox.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "redis/connection_manager.h"

namespace ncm::redis {

struct Outbox::Hooks {
  uv_prepare_t prepare;
  uv_check_t check;
  Outbox* owner = nullptr;  // null once the outbox is gone
  int open = 2;             // handles not yet closed
};

Outbox::Outbox(uv_loop_t* loop, Sink* sink) : sink_(sink) {
  auto hooks = std::make_unique<Hooks>();
  hooks->owner = this;
  uv_prepare_init(loop, &hooks->prepare);
  uv_check_init(loop, &hooks->check);
  hooks->prepare.data = hooks.get();
  hooks->check.data = hooks.get();
  uv_prepare_start(&hooks->prepare, [](uv_prepare_t* handle) {
    auto* h = static_cast<Hooks*>(handle->data);
    if (h->owner != nullptr) h->owner->Flush();
  });
  uv_check_start(&hooks->check, [](uv_check_t* handle) {
    auto* h = static_cast<Hooks*>(handle->data);
    if (h->owner != nullptr) h->owner->Flush();
  });
  uv_unref(reinterpret_cast<uv_handle_t*>(&hooks->prepare));
  uv_unref(reinterpret_cast<uv_handle_t*>(&hooks->check));
  hooks_ = hooks.release();  // freed by the close callbacks in ~Outbox
}

Outbox::~Outbox() {
  hooks_->owner = nullptr;
  const uv_close_cb on_closed = [](uv_handle_t* handle) {
    auto* h = static_cast<Hooks*>(handle->data);
    if (--h->open == 0) std::unique_ptr<Hooks> freed(h);
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&hooks_->prepare), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&hooks_->check), on_closed);
}

void Outbox::Flush() {
  if (items_.empty()) return;
  bytes_ = 0;
  std::vector<Completion> batch;
  batch.swap(items_);
  // The next batch is likely about as large: one allocation rather than growing from empty
  // (a reallocation, and a move of every completion so far, at each doubling).
  items_.reserve(std::min(batch.size(), kReserveMax));
  sink_->Deliver(std::move(batch));
}

}  // namespace ncm::redis
