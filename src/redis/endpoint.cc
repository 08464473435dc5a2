#include "redis/endpoint.h"

#include <limits>
#include <utility>

#include "redis/command_encoder.h"

namespace ncm::redis {
namespace {

HandshakeOptions HandshakeOf(const Config& config) {
  HandshakeOptions options;
  options.username = config.username;
  options.password = config.password;
  options.db = config.db;
  options.client_name = config.client_name;
  options.confirm = config.tls != nullptr;
  return options;
}

NodeOptions NodeOptionsOf(const Config& config) {
  NodeOptions options;
  options.limits = config.limits;
  options.health_interval_ms = config.health_interval_ms;
  options.ping_timeout_ms = config.command_timeout_ms;
  options.reply_buffers = config.reply_buffers;
  return options;
}

DialOptions DialOptionsOf(const Config& config) {
  DialOptions options;
  options.connect_timeout_ms = config.connect_timeout_ms;
  options.connect_retry_ms = config.connect_retry_ms;
  options.keepalive_ms = config.keepalive_ms;
  options.tls = config.tls;
  return options;
}

const char kClosedMessage[] = "the client was closed";

}  // namespace

Endpoint::Endpoint(uv_loop_t* loop, const Config& config, Listener* listener)
    : loop_(loop),
      config_(config),
      listener_(listener),
      handshake_(HandshakeOf(config)),
      node_options_(NodeOptionsOf(config)),
      source_(loop, config.host, config.port, config.path),
      dialer_(loop, DialOptionsOf(config), &source_, this),
      backoff_(config.reconnect_base_ms, config.reconnect_max_ms,
               uv_hrtime() ^ reinterpret_cast<uintptr_t>(this) ^ 0x9E3779B97F4A7C15ull),
      deadline_timer_(loop, [this] { OnDeadline(); }),
      reconnect_timer_(loop, [this] {
        if (state_ == State::kBackoff) StartConnect();
      }) {}

Endpoint::~Endpoint() = default;

// --- admitting and writing ----------------------------------------------------------------

uint32_t Endpoint::TimeoutOf(const Request& request) const {
  return request.timeout_ms ? request.timeout_ms : config_.command_timeout_ms;
}

void Endpoint::Admit(std::unique_ptr<Request> request) {
  const uint32_t timeout = TimeoutOf(*request);
  request->deadline_ms =
      timeout == std::numeric_limits<uint32_t>::max() ? kNoDeadline : uv_now(loop_) + timeout;
  ++user_outstanding_;
  Track(request.get());
  switch (state_) {
    case State::kIdle:
      pending_.push_back(std::move(request));  // Flush() connects, once the batch is in
      break;
    case State::kConnecting:
    case State::kCredentials:
    case State::kHandshake:
      // A retry against a host that already failed: the same cap as between attempts.
      if (down_) {
        AdmitWhileDown(std::move(request));
      } else {
        pending_.push_back(std::move(request));
      }
      break;
    case State::kReady:
      pending_.push_back(std::move(request));
      break;
    case State::kBackoff:
      AdmitWhileDown(std::move(request));
      break;
    case State::kClosed:
      Reject(std::move(request), Failure{ErrorKind::kClosed, kClosedMessage, ""});
      break;
  }
}

// Redis is known to be down: hold at most `offline_queue` requests, fail the rest fast.
void Endpoint::AdmitWhileDown(std::unique_ptr<Request> request) {
  if (pending_.size() < config_.offline_queue) {
    pending_.push_back(std::move(request));
  } else if (last_.kind == ErrorKind::kServer || last_.kind == ErrorKind::kCredentials) {
    // e.g. WRONGPASS: keep the server's text, whose first word is the error code (or the
    // credentials provider's failure, which says what it was).
    Reject(std::move(request), last_);
  } else {
    // e.g. "Redis is unreachable, failing fast (last error: connect ECONNREFUSED 127.0.0.1:6399)"
    Reject(std::move(request),
           Failure{last_.kind,
                   "Redis is unreachable, failing fast (last error: " + last_.message + ")",
                   last_.err});
  }
}

void Endpoint::Flush() {
  if (state_ == State::kIdle && !pending_.empty()) {
    StartConnect();
    return;
  }
  if (state_ != State::kReady || !conn_ || pending_.empty()) return;
  Failure failure;
  if (!conn_->Write(&pending_, &failure)) ConnectionLost(failure);
}

void Endpoint::Reject(std::unique_ptr<Request> request, const Failure& failure) {
  deadlines_.Remove(request.get());
  if (request->kind != RequestKind::kUser) return;
  --user_outstanding_;
  Completion c;
  c.id = request->id;
  c.flags = request->flags;
  c.error = failure.kind;
  c.message = failure.message;
  c.error_errno = failure.err;
  listener_->OnCompletion(std::move(c));
}

void Endpoint::RejectPending(const Failure& failure) {
  while (!pending_.empty()) {
    auto request = std::move(pending_.front());
    pending_.pop_front();
    Reject(std::move(request), failure);
  }
}

// --- connecting -------------------------------------------------------------------------

void Endpoint::StartConnect() {
  // The connect timeout counts from now, not from the start of this turn of the loop
  // (admitting a large batch can take a while on a loaded machine).
  uv_update_time(loop_);
  state_ = State::kConnecting;
  attempt_started_ms_ = uv_now(loop_);
  ++attempt_;
  dialer_.Dial();
}

void Endpoint::OnDialed(std::unique_ptr<Transport> transport) {
  NodeConnection::Listener* listener = this;
  conn_ = std::make_unique<NodeConnection>(loop_, std::move(transport), node_options_, listener);
  if (config_.credentials_provider) {
    // The socket stays open (and read: a refusal on accept still counts) while the provider
    // answers on the JS thread; the connect timeout keeps running.
    state_ = State::kCredentials;
    listener_->OnCredentialsWanted(attempt_);
    return;
  }
  StartHandshake(HandshakeRequests(handshake_));
}

void Endpoint::OnCredentials(CredentialsAnswer answer) {
  if (state_ != State::kCredentials || answer.attempt != attempt_ || !conn_) return;
  if (!answer.ok) {
    ConnectFailed(Failure{ErrorKind::kCredentials, answer.error, ""});
    return;
  }
  StartHandshake(HandshakeRequests(handshake_, answer.credentials));
}

void Endpoint::StartHandshake(std::deque<std::unique_ptr<Request>> handshake) {
  if (handshake.empty()) {
    BecomeReady();
    return;
  }
  // The handshake goes out alone; requests already pending wait for BecomeReady, so they
  // never run before AUTH/SELECT succeeded.
  state_ = State::kHandshake;
  Failure failure;
  if (!conn_->Write(&handshake, &failure)) ConnectFailed(failure);
}

void Endpoint::OnDialFailed(const Failure& failure) {
  if (state_ == State::kCredentials && failure.kind == ErrorKind::kConnectTimeout) {
    // The socket was open: the wait for the provider is what ran out of time.
    ConnectFailed(Failure{failure.kind,
                          "connect ETIMEDOUT " + source_.address() +
                              ": the credentials provider (option 'credentials') did not "
                              "settle within " +
                              std::to_string(config_.connect_timeout_ms) + " ms (connectTimeout)",
                          failure.err});
    return;
  }
  ConnectFailed(failure);
}

void Endpoint::BecomeReady() {
  dialer_.Settle();
  state_ = State::kReady;
  down_ = false;
  last_.message.clear();
  last_.err.clear();
  conn_->StartHealthChecks();
  Flush();
}

void Endpoint::ConnectFailed(const Failure& failure) {
  dialer_.Cancel();
  DropConnection(failure);
  last_ = failure;
  down_ = true;
  state_ = State::kBackoff;
  if (graceful_) {
    RejectPending(failure);
    Finish();
    return;
  }
  // Fail fast while Redis is down; keep at most `offline_queue` requests for later.
  while (pending_.size() > config_.offline_queue) {
    auto request = std::move(pending_.back());
    pending_.pop_back();
    Reject(std::move(request), failure);
  }
  ScheduleReconnect();
}

void Endpoint::ConnectionLost(const Failure& failure) {
  DropConnection(failure);
  // Kept for the errors of requests that wait for (or fail fast before) the reconnect.
  last_ = Failure{ErrorKind::kConnection, failure.message, failure.err};
  if (graceful_) {
    RejectPending(failure);
    Finish();
    return;
  }
  // Reconnect at once after losing a healthy connection; back off if it keeps failing.
  if (backoff_.TakeImmediateRetry()) {
    StartConnect();
  } else {
    ScheduleReconnect();
  }
}

void Endpoint::ScheduleReconnect() {
  const uint64_t delay = backoff_.NextDelay(uv_now(loop_) - attempt_started_ms_);
  state_ = State::kBackoff;
  reconnect_timer_.Start(delay);
}

void Endpoint::DropConnection(const Failure& failure) {
  if (!conn_) return;
  std::deque<std::unique_ptr<Request>> inflight = conn_->TakeInflight();
  // Requests written and not answered are rejected below as "not re-sent". A plain close
  // would leave their bytes to the kernel, which goes on retransmitting them: after a
  // partition heals, a SET that its caller saw fail would still run, seconds later, over a
  // newer value. A reset close drops them with the socket.
  conn_->Close(!inflight.empty());
  conn_.reset();
  for (auto& request : inflight) Reject(std::move(request), failure);
}

// --- replies and losses -------------------------------------------------------------------

void Endpoint::OnReply(std::unique_ptr<Request> request, std::unique_ptr<Reply> reply) {
  deadlines_.Remove(request.get());
  switch (request->kind) {
    case RequestKind::kHandshake:
    case RequestKind::kHandshakeLast:
      if (reply->type == ReplyType::kError) {
        ConnectFailed(Failure{ErrorKind::kServer, reply->str, ""});
      } else if (request->kind == RequestKind::kHandshakeLast) {
        BecomeReady();
      }
      return;
    case RequestKind::kQuit:
      Finish();
      return;
    default:
      break;
  }
  if (reply->type != ReplyType::kError) backoff_.Reset();  // the connection works
  --user_outstanding_;
  Completion c;
  c.id = request->id;
  c.flags = request->flags;
  c.reply = std::move(reply);
  listener_->OnCompletion(std::move(c));
  if (graceful_) MaybeFinishClose();
}

void Endpoint::OnRefused(const std::string& text) {
  // The server refused the connection (maxclients, protected mode, ...): every written
  // request and every call while Redis refuses fails with the server's text (e.g. "ERR max
  // number of clients reached"), and the next attempt waits for the backoff.
  ConnectFailed(Failure{ErrorKind::kServer, text, ""});
}

void Endpoint::OnLost(const Failure& failure) {
  if (quit_sent_) {
    Finish();  // the server closed after QUIT, as asked
  } else if (state_ == State::kHandshake || state_ == State::kCredentials) {
    ConnectFailed(failure);
  } else {
    ConnectionLost(failure);
  }
}

void Endpoint::OnHealthy() { backoff_.Reset(); }

// --- deadlines ----------------------------------------------------------------------------

void Endpoint::Track(Request* request) {
  deadlines_.Add(request);
  // The timer only ever moves earlier here; a request that leaves the index does not move
  // it later: the timer then fires early, finds nothing expired, and re-arms (cheaper than
  // re-arming after every reply).
  if (request->tracked && request->deadline_ms < armed_deadline_) {
    armed_deadline_ = request->deadline_ms;
    const uint64_t now = uv_now(loop_);
    deadline_timer_.Start(armed_deadline_ > now ? armed_deadline_ - now : 0);
  }
}

void Endpoint::RearmDeadlineTimer() {
  armed_deadline_ = deadlines_.Earliest();
  if (armed_deadline_ == kNoDeadline || state_ == State::kClosed) {
    armed_deadline_ = kNoDeadline;
    deadline_timer_.Stop();
    return;
  }
  const uint64_t now = uv_now(loop_);
  deadline_timer_.Start(armed_deadline_ > now ? armed_deadline_ - now : 0);
}

std::string Endpoint::UnreachableDetail() const {
  if (!last_.message.empty()) return "; last error: " + last_.message;
  return "; the connection to Redis is still being opened";
}

void Endpoint::OnDeadline() {
  armed_deadline_ = kNoDeadline;
  if (state_ == State::kClosed) return;
  const uint64_t now = uv_now(loop_);
  if (state_ == State::kConnecting || state_ == State::kCredentials ||
      state_ == State::kHandshake) {
    // An attempt whose connect timeout is due now fails first, so the requests waiting for
    // it learn why (connect timeout) rather than only that their time ran out.
    dialer_.ExpireIfDue(now);
    if (state_ == State::kClosed) return;
  }
  // Only the expired entries are looked at: the index is ordered by deadline.
  uint32_t written_timeout = 0;
  bool pending_expired = false;
  deadlines_.ForEachExpired(now, [&](const Request& request) {
    if (request.written) {
      if (written_timeout == 0) written_timeout = TimeoutOf(request);
    } else {
      pending_expired = true;
    }
  });
  if (written_timeout != 0) {
    // A reply that comes later would belong to a caller that gave up: replace the
    // connection so it can never be handed to the next request. Written requests are not
    // re-sent (they may not be idempotent).
    ConnectionLost(Failure{ErrorKind::kTimeout,
                           "no reply within " + std::to_string(written_timeout) +
                               " ms (commandTimeout); the connection was recycled and the "
                               "command is not re-sent",
                           "ETIMEDOUT"});
  }
  if (pending_expired && state_ != State::kClosed) RejectExpiredPending(now);
  if (graceful_) MaybeFinishClose();
  RearmDeadlineTimer();
}

// Requests still waiting to be written (Redis down or connecting) that ran out of time.
void Endpoint::RejectExpiredPending(uint64_t now) {
  const std::string detail = UnreachableDetail();
  std::deque<std::unique_ptr<Request>> keep;
  while (!pending_.empty()) {
    auto request = std::move(pending_.front());
    pending_.pop_front();
    if (request->deadline_ms <= now) {
      const uint32_t timeout = TimeoutOf(*request);
      Reject(std::move(request),
             Failure{ErrorKind::kTimeout,
                     "not sent within " + std::to_string(timeout) +
                         " ms (commandTimeout): Redis is not reachable" + detail,
                     "ETIMEDOUT"});
    } else {
      keep.push_back(std::move(request));
    }
  }
  pending_ = std::move(keep);
}

// --- closing ------------------------------------------------------------------------------

void Endpoint::Close() {
  graceful_ = true;
  MaybeFinishClose();
}

void Endpoint::MaybeFinishClose() {
  if (!graceful_ || quit_sent_ || state_ == State::kClosed || user_outstanding_ > 0) return;
  if (state_ == State::kReady && conn_) {
    quit_sent_ = true;
    auto quit = std::make_unique<Request>();
    quit->bytes = EncodeCommand({"QUIT"});
    quit->kind = RequestKind::kQuit;
    quit->deadline_ms = uv_now(loop_) + config_.command_timeout_ms;
    Track(quit.get());
    pending_.push_back(std::move(quit));
    Flush();
  } else {
    Finish();
  }
}

void Endpoint::Abort(const std::string& unsent_message, const std::string& unanswered_message) {
  if (state_ == State::kClosed) return;
  RejectPending(Failure{ErrorKind::kClosed, unsent_message, ""});
  DropConnection(Failure{ErrorKind::kClosed, unanswered_message, ""});
  Finish();
}

void Endpoint::Finish() {
  if (state_ == State::kClosed) return;
  // A queued host name lookup would keep the loop (and so the close) waiting for it.
  dialer_.Cancel();
  RejectPending(Failure{ErrorKind::kClosed, kClosedMessage, ""});
  DropConnection(Failure{ErrorKind::kClosed, "the client was closed before the reply arrived", ""});
  state_ = State::kClosed;
  armed_deadline_ = kNoDeadline;
  deadline_timer_.Stop();
  reconnect_timer_.Stop();
  listener_->OnEndpointClosed();
}

}  // namespace ncm::redis
