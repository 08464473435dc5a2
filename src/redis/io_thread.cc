#include "redis/io_thread.h"

#include <utility>

namespace ncm::redis {

namespace {

// Whether `loop` has watchers started since its last poll: libuv hands them to epoll only
// at its next poll, so until then the backend fd cannot wake the host for them. (The queue
// is part of uv_loop_t's fixed layout in libuv 1.x.)
bool WatchersPending(const uv_loop_t* loop) {
  return loop->watcher_queue.next != &loop->watcher_queue;
}

// Most extra non-blocking runs in one pump while watchers wait to be registered.
constexpr int kMaxRunsPerPump = 8;

void OnHostTimer(uv_timer_t* handle);

}  // namespace

struct IoThread::HostPump {
  uv_poll_t poll;
  uv_timer_t timer;
  IoThread* owner = nullptr;  // null once released
  int open = 0;               // handles not yet through their close callback
  std::function<void()> released;

  static void Closed(uv_handle_t* handle) {
    auto* pump = static_cast<HostPump*>(handle->data);
    if (--pump->open > 0) return;
    std::function<void()> released = std::move(pump->released);
    delete pump;
    if (released) released();
  }
};

IoThread::IoThread(Listener* listener) : listener_(listener) {}

IoThread::~IoThread() { StopAndJoin(); }

void IoThread::UseHostLoop(uv_loop_t* host, HostHooks hooks) {
  host_ = host;
  host_hooks_ = std::move(hooks);
}

void IoThread::WakeUp() {
  Inbox inbox;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox.requests.swap(submitted_);
    inbox.credentials.swap(answers_);
    inbox.stop = stop_requested_;
    inbox.close = close_requested_;
    close_requested_ = false;
    inbox.close_timeout_ms = close_timeout_ms_;
  }
  listener_->OnWake(std::move(inbox));
}

bool IoThread::Submit(std::vector<std::unique_ptr<Request>>* batch) {
  if (batch->empty()) return true;
  bool start_hosted = false;
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closing_ || inbox_closed_) return false;
    if (!started_) {
      // Set up before the thread exists, so the thread sees it whole.
      if (uv_loop_init(&loop_) != 0) return false;
      uv_async_init(&loop_, &wake_,
                    [](uv_async_t* handle) { static_cast<IoThread*>(handle->data)->WakeUp(); });
      wake_.data = this;
      started_ = true;
      if (host_ == nullptr) {
        thread_ = std::thread([this] { Run(); });
      } else {
        start_hosted = true;
      }
    }
    was_empty = submitted_.empty();
    if (was_empty) {
      submitted_.swap(*batch);
    } else {
      for (auto& request : *batch) submitted_.push_back(std::move(request));
    }
    batch->clear();
  }
  if (start_hosted) StartHosted();
  if (host_ != nullptr && !pumping_ && !hosted_finished_) {
    // Hosted, and called from the owner's code (not from inside a run): hand the batch
    // over now, so it is written before control returns to the host loop, as a client
    // living on that loop would; then wake the host for whatever this started.
    WakeUp();
    listener_->OnRunOutsideThread();
    ArmHostTimer();
  } else if (was_empty) {
    uv_async_send(&wake_);
  }
  return true;
}

// --- hosted ------------------------------------------------------------------------------

void IoThread::StartHosted() {
  listener_->OnLoopStart(&loop_);
  pump_ = new HostPump();
  pump_->owner = this;
  pump_->released = std::move(host_hooks_.released);
  uv_poll_init(host_, &pump_->poll, uv_backend_fd(&loop_));
  uv_timer_init(host_, &pump_->timer);
  pump_->poll.data = pump_;
  pump_->timer.data = pump_;
  pump_->open = 2;
  uv_unref(reinterpret_cast<uv_handle_t*>(&pump_->poll));
  uv_unref(reinterpret_cast<uv_handle_t*>(&pump_->timer));
  uv_poll_start(&pump_->poll, UV_READABLE, [](uv_poll_t* handle, int, int) {
    PumpFromHost(static_cast<HostPump*>(handle->data));
  });
  // The first run registers the wake handle with the backend; until then nothing wakes it.
  uv_timer_start(&pump_->timer, OnHostTimer, 0, 0);
}

void IoThread::PumpFromHost(HostPump* pump) {
  if (pump->owner != nullptr) pump->owner->PumpHosted();
}

namespace {
void OnHostTimer(uv_timer_t* handle) {
  IoThread::PumpFromHost(static_cast<IoThread::HostPump*>(handle->data));
}
}  // namespace

// One non-blocking turn of the manager's loop, then the host timer set to its next
// timeout; the owner hears of it before and after (see HostHooks).
void IoThread::PumpHosted() {
  if (hosted_finished_ || pumping_) return;
  pumping_ = true;
  if (host_hooks_.before_run) host_hooks_.before_run();
  bool alive = uv_run(&loop_, UV_RUN_NOWAIT) != 0;
  for (int runs = 1; alive && runs < kMaxRunsPerPump && WatchersPending(&loop_); ++runs) {
    alive = uv_run(&loop_, UV_RUN_NOWAIT) != 0;
  }
  listener_->OnRunOutsideThread();
  bool inbox_closed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_closed = inbox_closed_;
  }
  if (!alive && inbox_closed) {
    FinishHosted();
  } else {
    ArmHostTimer();
  }
  pumping_ = false;
  // Last: the owner may stop this manager from in there.
  if (host_hooks_.after_run) host_hooks_.after_run();
}

// The host timer at the manager's next timeout, or at once while watchers wait to be
// handed to the backend (nothing else would wake the host for them).
void IoThread::ArmHostTimer() {
  const int timeout = WatchersPending(&loop_) ? 0 : uv_backend_timeout(&loop_);
  if (timeout < 0) {
    uv_timer_stop(&pump_->timer);
  } else {
    uv_timer_start(&pump_->timer, OnHostTimer, static_cast<uint64_t>(timeout), 0);
  }
}

// What Run() does after its loop ran out, on the owner's thread; then the pump lets go.
void IoThread::FinishHosted() {
  if (hosted_finished_) return;
  hosted_finished_ = true;
  listener_->OnLoopStopped();
  uv_run(&loop_, UV_RUN_DEFAULT);  // the close callbacks of what was just torn down
  uv_loop_close(&loop_);
  HostPump* pump = pump_;
  pump_ = nullptr;
  pump->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&pump->poll), HostPump::Closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&pump->timer), HostPump::Closed);
  listener_->OnLoopClosed();
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
    if (!started_ || (joined_ && host_ == nullptr)) return;
    joined_ = true;
    stop_requested_ = true;
    if (!inbox_closed_) uv_async_send(&wake_);
  }
  if (host_ == nullptr) {
    thread_.join();
    return;
  }
  if (hosted_finished_) return;
  // The stop closes everything at once, as on a thread of its own; run it to the end here.
  uv_run(&loop_, UV_RUN_DEFAULT);
  FinishHosted();
}

void IoThread::Join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || joined_) return;
    joined_ = true;
  }
  if (host_ == nullptr) thread_.join();
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
