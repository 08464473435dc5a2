#include "redis/io_thread.h"

#include <utility>

namespace ncm::redis {

IoThread::IoThread(Listener* listener) : listener_(listener) {}

IoThread::~IoThread() { StopAndJoin(); }

bool IoThread::Submit(std::vector<std::unique_ptr<Request>>* batch) {
  if (batch->empty()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (closing_ || inbox_closed_) return false;
  if (!started_) {
    // Set up before the thread exists, so the thread sees it whole.
    if (uv_loop_init(&loop_) != 0) return false;
    uv_async_init(&loop_, &wake_, [](uv_async_t* handle) {
      auto* self = static_cast<IoThread*>(handle->data);
      Inbox inbox;
      {
        std::lock_guard<std::mutex> lock(self->mutex_);
        inbox.requests.swap(self->submitted_);
        inbox.credentials.swap(self->answers_);
        inbox.stop = self->stop_requested_;
        inbox.close = self->close_requested_;
        self->close_requested_ = false;
        inbox.close_timeout_ms = self->close_timeout_ms_;
      }
      self->listener_->OnWake(std::move(inbox));
    });
    wake_.data = this;
    started_ = true;
    thread_ = std::thread([this] { Run(); });
  }
  const bool was_empty = submitted_.empty();
  if (was_empty) {
    submitted_.swap(*batch);
  } else {
    for (auto& request : *batch) submitted_.push_back(std::move(request));
  }
  batch->clear();
  if (was_empty) uv_async_send(&wake_);
  return true;
}

bool IoThread::Answer(CredentialsAnswer answer) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A graceful close still waits for the answer (the attempt may be what it waits for).
  if (!started_ || inbox_closed_ || stop_requested_) return false;
  answers_.push_back(std::move(answer));
  uv_async_send(&wake_);
  return true;
}

bool IoThread::RequestClose(uint32_t timeout_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool first = !closing_;
  closing_ = true;
  if (!started_) return false;
  if (first && !inbox_closed_) {
    close_requested_ = true;
    close_timeout_ms_ = timeout_ms;
    uv_async_send(&wake_);
  }
  return true;
}

void IoThread::StopAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
    if (!started_ || joined_) return;
    joined_ = true;
    stop_requested_ = true;
    if (!inbox_closed_) uv_async_send(&wake_);
  }
  thread_.join();
}

void IoThread::Join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || joined_) return;
    joined_ = true;
  }
  thread_.join();
}

std::vector<std::unique_ptr<Request>> IoThread::CloseInbox() {
  std::vector<std::unique_ptr<Request>> late;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (inbox_closed_) return late;
    inbox_closed_ = true;
    closing_ = true;
    late.swap(submitted_);
    answers_.clear();  // no attempt waits for them any more
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  return late;
}

void IoThread::Run() {
  listener_->OnLoopStart(&loop_);
  uv_run(&loop_, UV_RUN_DEFAULT);
  listener_->OnLoopStopped();
  uv_run(&loop_, UV_RUN_DEFAULT);  // the close callbacks of what was just torn down
  uv_loop_close(&loop_);
  listener_->OnLoopClosed();
}

}  // namespace ncm::redis
