#include "redis/connection_manager.h"

#include <utility>

#include "redis/endpoint.h"
#include "redis/outbox.h"
#include "redis/timer.h"

namespace ncm::redis {
namespace {

const char kClosedMessage[] = "the client was closed";

Completion Rejection(const Request& request, const char* message) {
  Completion c;
  c.id = request.id;
  c.flags = request.flags;
  c.error = ErrorKind::kClosed;
  c.message = message;
  return c;
}

}  // namespace

// The manager's I/O-thread side: the endpoint, the outbox its completions go through, and
// the disconnect timeout.
class ConnectionManager::Loop : public Endpoint::Listener {
 public:
  Loop(uv_loop_t* loop, const Config& config, Sink* sink, IoThread* io)
      : uv_loop_(loop),
        io_(io),
        sink_(sink),
        outbox_(loop, sink),
        endpoint_(loop, config, this),
        close_timer_(loop, [this] {
          endpoint_.Abort("disconnect timed out before the command was sent",
                          "disconnect timed out before the reply arrived");
        }) {}

  void OnWake(IoThread::Inbox inbox) {
    if (closed_) return;
    uv_update_time(uv_loop_);
    if (inbox.stop) {
      for (auto& request : inbox.requests) outbox_.Push(Rejection(*request, kClosedMessage));
      endpoint_.Abort(kClosedMessage, "the client was closed before the reply arrived");
      return;
    }
    for (auto& answer : inbox.credentials) endpoint_.OnCredentials(std::move(answer));
    for (auto& request : inbox.requests) endpoint_.Admit(std::move(request));
    endpoint_.Flush();
    if (inbox.close && !closing_) {
      closing_ = true;
      close_timer_.Start(inbox.close_timeout_ms);
      endpoint_.Close();
    }
  }

  // Completions go out now: the loop's check handle may not run again (the end), or not
  // before the next run (a hosted wake-up from the owner's own code).
  void FlushAll() { outbox_.Flush(); }

 private:
  // Endpoint::Listener
  void OnCompletion(Completion&& completion) override { outbox_.Push(std::move(completion)); }
  void OnCredentialsWanted(uint64_t attempt) override { sink_->RequestCredentials(attempt); }
  void OnEndpointClosed() override {
    closed_ = true;
    close_timer_.Stop();
    // Requests that slipped in after the close started were never admitted.
    for (auto& request : io_->CloseInbox()) outbox_.Push(Rejection(*request, kClosedMessage));
    outbox_.Flush();
  }

  uv_loop_t* const uv_loop_;
  IoThread* const io_;
  Sink* const sink_;
  Outbox outbox_;
  Endpoint endpoint_;
  Timer close_timer_;
  bool closing_ = false;  // a graceful close is under way
  bool closed_ = false;   // the endpoint closed: no more wake-ups
};

ConnectionManager::ConnectionManager(Config config, std::shared_ptr<Sink> sink)
    : config_(std::move(config)), sink_(std::move(sink)), io_(this) {}

ConnectionManager::~ConnectionManager() { io_.StopAndJoin(); }

std::string ConnectionManager::Address() const {
  if (!config_.path.empty()) return config_.path;
  if (config_.host.find(':') != std::string::npos) {
    return "[" + config_.host + "]:" + std::to_string(config_.port);
  }
  return config_.host + ":" + std::to_string(config_.port);
}

// --- owner thread ------------------------------------------------------------------------

bool ConnectionManager::Submit(std::unique_ptr<Request> request) {
  std::vector<std::unique_ptr<Request>> batch;
  batch.push_back(std::move(request));
  return SubmitMany(&batch);
}

bool ConnectionManager::SubmitMany(std::vector<std::unique_ptr<Request>>* batch) {
  return io_.Submit(batch);
}

bool ConnectionManager::ProvideCredentials(CredentialsAnswer answer) {
  return io_.Answer(std::move(answer));
}

bool ConnectionManager::Close(uint32_t timeout_ms) { return io_.RequestClose(timeout_ms); }

void ConnectionManager::StopAndJoin() { io_.StopAndJoin(); }

void ConnectionManager::Join() { io_.Join(); }

// --- I/O thread ---------------------------------------------------------------------------

void ConnectionManager::OnLoopStart(uv_loop_t* loop) {
  loop_ = std::make_unique<Loop>(loop, config_, sink_.get(), &io_);
}

void ConnectionManager::OnWake(IoThread::Inbox inbox) { loop_->OnWake(std::move(inbox)); }

void ConnectionManager::OnRunOutsideThread() { loop_->FlushAll(); }

void ConnectionManager::OnLoopStopped() {
  loop_->FlushAll();
  loop_.reset();
}

void ConnectionManager::OnLoopClosed() { sink_->Closed(); }

}  // namespace ncm::redis
