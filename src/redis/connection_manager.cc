#include "redis/connection_manager.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

namespace ncm::redis {
namespace {

// Worded like Node's net errors: "connect ECONNREFUSED 127.0.0.1:6399: connection refused".
std::string SyscallMessage(const char* syscall, const std::string& code, const std::string& target,
                           int status) {
  return std::string(syscall) + " " + code + " " + target + ": " + uv_strerror(status);
}

// Commands the manager sends on its own behalf (Request::internal).
enum InternalKind : uint8_t {
  kUser = 0,
  kHandshake = 1,      // AUTH / SELECT / CLIENT SETNAME, all but the last
  kHandshakeLast = 2,  // its reply makes the connection ready
  kPing = 3,           // idle health check
  kQuit = 4,           // graceful close
};

constexpr size_t kReadChunk = 64 * 1024;

// Error replies a server sends on its own as soon as it accepts a connection, before reading
// anything, and then closes it: the connection was refused, whatever commands were written.
bool IsRefusal(const Reply& reply) {
  if (reply.type != ReplyType::kError) return false;
  const std::string_view text(reply.str);
  return text.starts_with("ERR max number of clients reached") ||  // maxclients
         text.starts_with("DENIED ");                              // protected mode
}
constexpr uint64_t kNoDeadline = std::numeric_limits<uint64_t>::max();

void AppendBulk(std::string* out, std::string_view arg) {
  out->push_back('$');
  out->append(std::to_string(arg.size()));
  out->append("\r\n");
  out->append(arg);
  out->append("\r\n");
}

std::string Encode(std::initializer_list<std::string_view> args) {
  std::string out(1, '*');
  out.append(std::to_string(args.size()));
  out.append("\r\n");
  for (std::string_view arg : args) AppendBulk(&out, arg);
  return out;
}

}  // namespace

// One socket. Owned by conn_ while live; once closing, owned by libuv's close callback
// (uv_close needs the handle memory until then).
struct ConnectionManager::Connection {
  ConnectionManager* owner = nullptr;
  bool is_pipe = false;
  bool handle_open = false;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
  uv_connect_t connect_req;
  std::unique_ptr<RespReader> reader;
  uint64_t replies = 0;  // replies read on this socket so far

  uv_handle_t* handle() {
    return is_pipe ? reinterpret_cast<uv_handle_t*>(&pipe) : reinterpret_cast<uv_handle_t*>(&tcp);
  }
  uv_stream_t* stream() {
    return is_pipe ? reinterpret_cast<uv_stream_t*>(&pipe) : reinterpret_cast<uv_stream_t*>(&tcp);
  }
};

// A host name lookup on libuv's thread pool, owned by its callback.
struct ConnectionManager::Resolve {
  uv_getaddrinfo_t req;
  ConnectionManager* owner = nullptr;
  uint64_t generation = 0;
};

// The bytes of one uv_write, kept alive until its callback.
struct ConnectionManager::WriteBatch {
  uv_write_t req;
  ConnectionManager* owner = nullptr;
  Connection* conn = nullptr;
  std::vector<std::string> chunks;
  std::vector<uv_buf_t> bufs;
};

ConnectionManager::ConnectionManager(Config config, std::shared_ptr<Sink> sink)
    : config_(std::move(config)), sink_(std::move(sink)) {
  rng_state_ = uv_hrtime() ^ reinterpret_cast<uintptr_t>(this) ^ 0x9E3779B97F4A7C15ull;
  if (rng_state_ == 0) rng_state_ = 1;
}

ConnectionManager::~ConnectionManager() { StopAndJoin(); }

std::string ConnectionManager::Address() const {
  if (!config_.path.empty()) return config_.path;
  if (config_.host.find(':') != std::string::npos) {
    return "[" + config_.host + "]:" + std::to_string(config_.port);
  }
  return config_.host + ":" + std::to_string(config_.port);
}

// --- JS thread -------------------------------------------------------------------------

bool ConnectionManager::Submit(std::unique_ptr<Request> request) {
  std::vector<std::unique_ptr<Request>> batch;
  batch.push_back(std::move(request));
  return SubmitMany(&batch);
}

bool ConnectionManager::SubmitMany(std::vector<std::unique_ptr<Request>>* batch) {
  if (batch->empty()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (closing_ || wake_closed_) return false;
  if (!started_) {
    // Everything below is set up before the thread exists, so the thread sees it whole.
    if (uv_loop_init(&loop_) != 0) return false;
    uv_async_init(&loop_, &wake_, [](uv_async_t* handle) {
      static_cast<ConnectionManager*>(handle->data)->OnWake();
    });
    wake_.data = this;
    for (uv_timer_t* timer : {&deadline_timer_, &connect_timer_, &health_timer_, &reconnect_timer_,
                              &close_timer_, &connect_retry_timer_}) {
      uv_timer_init(&loop_, timer);
      timer->data = this;
    }
    read_buffer_.resize(kReadChunk);
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

bool ConnectionManager::Close(uint32_t timeout_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool first = !closing_;
  closing_ = true;
  if (!started_) return false;
  if (first && !wake_closed_) {
    close_requested_ = true;
    close_timeout_ms_ = timeout_ms;
    uv_async_send(&wake_);
  }
  return true;
}

void ConnectionManager::StopAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
    if (!started_ || joined_) return;
    joined_ = true;
    stop_requested_ = true;
    if (!wake_closed_) uv_async_send(&wake_);
  }
  thread_.join();
}

void ConnectionManager::Join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || joined_) return;
    joined_ = true;
  }
  thread_.join();
}

// --- I/O thread ------------------------------------------------------------------------

void ConnectionManager::Run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  sink_->Closed();
}

void ConnectionManager::OnWake() {
  std::vector<std::unique_ptr<Request>> batch;
  bool close_now = false;
  bool stop_now = false;
  uint32_t close_timeout = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(submitted_);
    stop_now = stop_requested_;
    close_now = close_requested_;
    close_requested_ = false;
    close_timeout = close_timeout_ms_;
  }
  if (finished_) return;
  uv_update_time(&loop_);
  for (auto& request : batch) {
    if (stop_now) {
      Reject(std::move(request), ErrorKind::kClosed, "the client was closed", "");
    } else {
      Admit(std::move(request));
    }
  }
  if (stop_now) {
    Finish();
    return;
  }
  if (close_now && !graceful_close_) {
    graceful_close_ = true;
    uv_timer_start(
        &close_timer_,
        [](uv_timer_t* t) { static_cast<ConnectionManager*>(t->data)->OnCloseTimeout(); },
        close_timeout, 0);
  }
  Flush();
  if (graceful_close_) MaybeFinishClose();
  if (!finished_) ArmDeadlineTimer();
  FlushOutbox();
}

void ConnectionManager::Admit(std::unique_ptr<Request> request) {
  const uint32_t timeout = TimeoutOf(*request);
  request->deadline_ms =
      timeout == std::numeric_limits<uint32_t>::max() ? kNoDeadline : uv_now(&loop_) + timeout;
  Track(request.get());
  switch (state_) {
    case State::kIdle:
      pending_.push_back(std::move(request));
      StartConnect();
      break;
    case State::kConnecting:
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
      Reject(std::move(request), ErrorKind::kClosed, "the client was closed", "");
      break;
  }
}

// Redis is known to be down: hold at most `offline_queue` commands, fail the rest fast.
void ConnectionManager::AdmitWhileDown(std::unique_ptr<Request> request) {
  if (pending_.size() < config_.offline_queue) {
    pending_.push_back(std::move(request));
  } else if (last_error_ == ErrorKind::kServer) {
    // e.g. WRONGPASS: keep the server's text, whose first word is the error code.
    Reject(std::move(request), last_error_, last_message_, last_errno_);
  } else {
    Reject(std::move(request), last_error_,
           "Redis is unreachable, failing fast (last error: " + last_message_ + ")",
           last_errno_);  // e.g. "... (last error: connect ECONNREFUSED 127.0.0.1:6399)"
  }
}

void ConnectionManager::Reject(std::unique_ptr<Request> request, ErrorKind kind,
                               const std::string& message, const std::string& err) {
  Untrack(request.get());
  if (request->internal != kUser) return;
  Completion c;
  c.id = request->id;
  c.flags = request->flags;
  c.error = kind;
  c.message = message;
  c.error_errno = err;
  outbox_.push_back(std::move(c));
}

void ConnectionManager::RejectPending(ErrorKind kind, const std::string& message,
                                      const std::string& err) {
  while (!pending_.empty()) {
    auto request = std::move(pending_.front());
    pending_.pop_front();
    Reject(std::move(request), kind, message, err);
  }
}

void ConnectionManager::FlushOutbox() {
  if (outbox_.empty()) return;
  std::vector<Completion> batch;
  batch.swap(outbox_);
  sink_->Deliver(std::move(batch));
}

// --- connecting ------------------------------------------------------------------------

void ConnectionManager::StartConnect() {
  state_ = State::kConnecting;
  ++generation_;
  attempt_started_ms_ = uv_now(&loop_);
  addresses_.clear();
  next_address_ = 0;
  uv_timer_start(
      &connect_timer_,
      [](uv_timer_t* t) { static_cast<ConnectionManager*>(t->data)->OnConnectTimeout(); },
      config_.connect_timeout_ms, 0);

  conn_ = NewConnection();

  if (!config_.path.empty()) {
    conn_->is_pipe = true;
    uv_pipe_init(&loop_, &conn_->pipe, 0);
    conn_->pipe.data = conn_.get();
    conn_->handle_open = true;
    uv_pipe_connect(&conn_->connect_req, &conn_->pipe, config_.path.c_str(),
                    [](uv_connect_t* req, int status) {
                      auto* conn = static_cast<Connection*>(req->data);
                      conn->owner->OnConnected(conn, status);
                    });
    return;
  }

  sockaddr_storage addr;
  if (uv_ip4_addr(config_.host.c_str(), config_.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(config_.host.c_str(), config_.port, reinterpret_cast<sockaddr_in6*>(&addr)) ==
          0) {
    ConnectTo(reinterpret_cast<const sockaddr*>(&addr));
    return;
  }

  // A host name: resolve on libuv's thread pool. The request carries the attempt's
  // generation so an answer that arrives after a timeout is ignored.
  CancelResolve();
  auto resolve = std::make_unique<Resolve>();
  resolve->owner = this;
  resolve->generation = generation_;
  resolve->req.data = resolve.get();
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(config_.port);
  int rc = uv_getaddrinfo(
      &loop_, &resolve->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* result) {
        // Owned by this callback from here on (released below when the call was queued).
        std::unique_ptr<Resolve> owned(static_cast<Resolve*>(req->data));
        // The manager outlives every lookup: its loop runs until this callback has run,
        // also after a cancel (status UV_EAI_CANCELED, result null).
        ConnectionManager* self = owned->owner;
        if (self->resolving_ == owned.get()) self->resolving_ = nullptr;
        const bool cancelled = status == UV_EAI_CANCELED || status == UV_ECANCELED;
        const bool current = !cancelled && !self->finished_ &&
                             owned->generation == self->generation_ &&
                             self->state_ == State::kConnecting;
        if (current) {
          if (status != 0 || result == nullptr) {
            const std::string err = status == UV_EAI_NONAME ? "ENOTFOUND" : uv_err_name(status);
            self->ConnectFailed(ErrorKind::kConnection,
                                SyscallMessage("getaddrinfo", err, self->config_.host, status),
                                err);
          } else {
            self->addresses_.clear();
            for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
              if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
              sockaddr_storage one;
              std::memcpy(&one, ai->ai_addr, ai->ai_addrlen);
              self->addresses_.push_back(one);
            }
            self->next_address_ = 1;
            if (self->addresses_.empty()) {
              self->ConnectFailed(ErrorKind::kConnection, "the host name has no address",
                                  "ENOTFOUND");
            } else {
              self->ConnectTo(reinterpret_cast<const sockaddr*>(&self->addresses_[0]));
            }
          }
          self->FlushOutbox();
        }
        if (result != nullptr) uv_freeaddrinfo(result);
      },
      config_.host.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    ConnectFailed(ErrorKind::kConnection,
                  SyscallMessage("getaddrinfo", uv_err_name(rc), config_.host, rc),
                  uv_err_name(rc));
    return;
  }
  resolving_ = resolve.release();  // owned by the callback above
}

int ConnectionManager::OpenTcp(Connection* conn, const sockaddr* addr) {
  uv_tcp_init(&loop_, &conn->tcp);
  conn->tcp.data = conn;
  conn->handle_open = true;
  uv_tcp_nodelay(&conn->tcp, 1);
  return uv_tcp_connect(&conn->connect_req, &conn->tcp, addr, [](uv_connect_t* req, int status) {
    auto* c = static_cast<Connection*>(req->data);
    c->owner->OnConnected(c, status);
  });
}

void ConnectionManager::ConnectTo(const sockaddr* addr) {
  CloseSpare();
  std::memcpy(&connect_addr_, addr,
              addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  int rc = OpenTcp(conn_.get(), addr);
  if (rc != 0) {
    ConnectFailed(ErrorKind::kConnection, SyscallMessage("connect", uv_err_name(rc), Address(), rc),
                  uv_err_name(rc));
    return;
  }
  if (config_.connect_retry_ms > 0 && config_.connect_retry_ms < config_.connect_timeout_ms) {
    uv_timer_start(
        &connect_retry_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<ConnectionManager*>(t->data);
          self->OnConnectRetry();
          self->FlushOutbox();
        },
        config_.connect_retry_ms, config_.connect_retry_ms);
  }
}

// A SYN lost in a partition is retransmitted by the kernel only after 1 s, then 3 s, 7 s: a
// network that heals in between would go unnoticed until then (or until the connect timeout
// and the next attempt). A spare socket sends a fresh SYN now; the first socket keeps
// waiting, so a slow link (a round trip above connect_retry_ms) still connects.
void ConnectionManager::OnConnectRetry() {
  if (finished_ || state_ != State::kConnecting || !conn_ || conn_->is_pipe) {
    uv_timer_stop(&connect_retry_timer_);
    return;
  }
  CloseSpare();
  spare_ = NewConnection();
  if (OpenTcp(spare_.get(), reinterpret_cast<const sockaddr*>(&connect_addr_)) != 0) {
    CloseSpare();  // the first socket's own outcome decides
  }
}

void ConnectionManager::CloseSpare() {
  uv_timer_stop(&connect_retry_timer_);
  CloseSocket(std::move(spare_));
}

void ConnectionManager::OnConnected(Connection* conn, int status) {
  if (finished_) return;
  if (spare_ && conn == spare_.get()) {
    // The fresher SYN was answered first (connected, or refused: either way the server is
    // reachable again): it becomes the connection and the first socket is dropped.
    CloseSocket(std::move(conn_));
    conn_ = std::move(spare_);
  }
  if (conn != conn_.get()) return;  // a dropped attempt (status ECANCELED)
  CloseSpare();
  if (status != 0) {
    if (next_address_ < addresses_.size()) {
      // A name with several addresses (e.g. localhost -> ::1 and 127.0.0.1): try the next
      // one within the same connect timeout.
      const sockaddr_storage next = addresses_[next_address_++];
      CloseSocket(std::move(conn_));
      conn_ = NewConnection();
      ConnectTo(reinterpret_cast<const sockaddr*>(&next));
      FlushOutbox();
      return;
    }
    ConnectFailed(ErrorKind::kConnection,
                  SyscallMessage("connect", uv_err_name(status), Address(), status),
                  uv_err_name(status));
    FlushOutbox();
    return;
  }
  if (!conn->is_pipe && config_.keepalive_ms > 0) {
    const unsigned delay_s = std::max(1u, config_.keepalive_ms / 1000);
    uv_tcp_keepalive(&conn->tcp, 1, delay_s);
#if defined(__linux__)
    // Notice a dead peer in seconds, not the kernel's default hours: probe every second,
    // give up after 3 probes, and bound unacknowledged writes the same way.
    uv_os_fd_t fd;
    if (uv_fileno(conn->handle(), &fd) == 0) {
      int interval = 1;
      int count = 3;
      unsigned int user_timeout = delay_s * 1000 + 3000;
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
#ifdef TCP_USER_TIMEOUT
      setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
#endif
    }
#endif
  }
  uv_read_start(
      conn->stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Connection*>(handle->data)->owner;
        buf->base = self->read_buffer_.data();
        buf->len = self->read_buffer_.size();
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(stream->data);
        conn->owner->OnRead(conn, nread, buf);
      });
  SendHandshake();
  FlushOutbox();
}

void ConnectionManager::SendHandshake() {
  std::vector<std::string> commands;
  if (!config_.password.empty()) {
    commands.push_back(config_.username.empty()
                           ? Encode({"AUTH", config_.password})
                           : Encode({"AUTH", config_.username, config_.password}));
  }
  if (config_.db != 0) commands.push_back(Encode({"SELECT", std::to_string(config_.db)}));
  if (!config_.client_name.empty()) {
    commands.push_back(Encode({"CLIENT", "SETNAME", config_.client_name}));
  }
  if (commands.empty()) {
    BecomeReady();
    return;
  }
  state_ = State::kHandshake;
  // The handshake goes out alone; commands already pending wait for BecomeReady, so they
  // never run before AUTH/SELECT succeeded.
  std::deque<std::unique_ptr<Request>> handshake;
  for (size_t i = 0; i < commands.size(); ++i) {
    auto request = std::make_unique<Request>();
    request->bytes = std::move(commands[i]);
    request->internal = i + 1 == commands.size() ? kHandshakeLast : kHandshake;
    request->deadline_ms = kNoDeadline;  // the connect timer bounds the handshake
    handshake.push_back(std::move(request));
  }
  WriteNow(&handshake);
}

void ConnectionManager::BecomeReady() {
  uv_timer_stop(&connect_timer_);
  state_ = State::kReady;
  down_ = false;
  last_message_.clear();
  last_errno_.clear();
  last_activity_ms_ = uv_now(&loop_);
  if (config_.health_interval_ms > 0) {
    uv_timer_start(
        &health_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<ConnectionManager*>(t->data);
          self->OnHealthTick();
          self->FlushOutbox();
        },
        config_.health_interval_ms, config_.health_interval_ms);
  }
  Flush();
}

void ConnectionManager::OnConnectTimeout() {
  if (state_ != State::kConnecting && state_ != State::kHandshake) return;
  ConnectFailed(ErrorKind::kConnectTimeout,
                "connect ETIMEDOUT " + Address() + ": no connection within " +
                    std::to_string(config_.connect_timeout_ms) + " ms (connectTimeout)",
                "ETIMEDOUT");
  FlushOutbox();
}

void ConnectionManager::ConnectFailed(ErrorKind kind, const std::string& message,
                                      const std::string& err) {
  ++generation_;
  uv_timer_stop(&connect_timer_);
  CancelResolve();
  DropConnection(kind, message, err);
  last_error_ = kind;
  last_message_ = message;
  last_errno_ = err;
  down_ = true;
  state_ = State::kBackoff;
  if (graceful_close_) {
    RejectPending(kind, message, err);
    Finish();
    return;
  }
  // Fail fast while Redis is down; keep at most `offline_queue` commands for later.
  while (pending_.size() > config_.offline_queue) {
    auto request = std::move(pending_.back());
    pending_.pop_back();
    Reject(std::move(request), kind, message, err);
  }
  ScheduleReconnect();
}

void ConnectionManager::ScheduleReconnect() {
  ++attempt_;
  uint64_t delay = config_.reconnect_base_ms;
  for (uint32_t i = 1; i < attempt_ && delay < config_.reconnect_max_ms; ++i) delay *= 2;
  delay = std::min<uint64_t>(delay, config_.reconnect_max_ms);
  // Jitter in [delay/2, delay] so a fleet does not reconnect in lockstep.
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  delay = delay / 2 + rng_state_ % (delay / 2 + 1);
  // Attempts start at least `delay` apart: an attempt that failed only after waiting (the
  // connect timeout into a partition) has already spent that time.
  const uint64_t waited = uv_now(&loop_) - attempt_started_ms_;
  delay = delay > waited ? delay - waited : 0;
  state_ = State::kBackoff;
  uv_timer_start(
      &reconnect_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<ConnectionManager*>(t->data);
        self->OnReconnectTimer();
        self->FlushOutbox();
      },
      delay, 0);
}

void ConnectionManager::OnReconnectTimer() {
  if (state_ == State::kBackoff && !finished_) StartConnect();
}

std::unique_ptr<ConnectionManager::Connection> ConnectionManager::NewConnection() {
  auto conn = std::make_unique<Connection>();
  conn->owner = this;
  conn->reader = std::make_unique<RespReader>(config_.limits);
  conn->connect_req.data = conn.get();
  return conn;
}

void ConnectionManager::CloseSocket(std::unique_ptr<Connection> conn, bool reset) {
  if (!conn || !conn->handle_open) return;  // nothing opened yet: freed here
  conn->handle()->data = conn.get();
  const uv_close_cb on_closed = [](uv_handle_t* handle) {
    std::unique_ptr<Connection> owned(static_cast<Connection*>(handle->data));
  };
  // uv_tcp_close_reset: SO_LINGER 0, so the kernel discards what it still holds to send and
  // answers with RST. It refuses a handle that is shutting down; then a plain close.
  if (!reset || conn->is_pipe || uv_tcp_close_reset(&conn->tcp, on_closed) != 0) {
    uv_close(conn->handle(), on_closed);
  }
  conn.release();  // owned by the close callback above (libuv needs the handle until then)
}

void ConnectionManager::DropConnection(ErrorKind kind, const std::string& message,
                                       const std::string& err) {
  uv_timer_stop(&health_timer_);
  CloseSpare();
  // Commands written and not answered are rejected below as "not re-sent". A plain close
  // would leave their bytes to the kernel, which goes on retransmitting them: after a
  // partition heals, a SET that its caller saw fail would still run, seconds later, over a
  // newer value. A reset close drops them with the socket.
  CloseSocket(std::move(conn_), !inflight_.empty());
  while (!inflight_.empty()) {
    auto request = std::move(inflight_.front());
    inflight_.pop_front();
    Reject(std::move(request), kind, message, err);
  }
}

// Called when a working connection breaks (not during connect).
void ConnectionManager::OnConnectionLost(ErrorKind kind, const std::string& message,
                                         const std::string& err) {
  DropConnection(kind, message, err);
  // Kept for the errors of commands that wait for (or fail fast before) the reconnect.
  last_error_ = ErrorKind::kConnection;
  last_message_ = message;
  last_errno_ = err;
  if (graceful_close_) {
    RejectPending(kind, message, err);
    Finish();
    return;
  }
  // Reconnect at once after losing a healthy connection; back off if it keeps failing.
  if (attempt_ == 0) {
    attempt_ = 1;
    StartConnect();
  } else {
    ScheduleReconnect();
  }
}

// --- writing and reading ----------------------------------------------------------------

void ConnectionManager::Flush() {
  if (state_ == State::kReady) WriteNow(&pending_);
}

void ConnectionManager::WriteNow(std::deque<std::unique_ptr<Request>>* queue) {
  if (!conn_ || queue->empty() || finished_) return;
  auto batch = std::make_unique<WriteBatch>();
  batch->owner = this;
  batch->conn = conn_.get();
  batch->req.data = batch.get();
  batch->chunks.reserve(queue->size());
  while (!queue->empty()) {
    auto request = std::move(queue->front());
    queue->pop_front();
    batch->chunks.push_back(std::move(request->bytes));
    request->bytes = std::string();
    request->written = true;
    inflight_.push_back(std::move(request));
  }
  batch->bufs.reserve(batch->chunks.size());
  for (std::string& chunk : batch->chunks) {
    batch->bufs.push_back(uv_buf_init(chunk.data(), static_cast<unsigned>(chunk.size())));
  }
  last_activity_ms_ = uv_now(&loop_);
  int rc = uv_write(&batch->req, conn_->stream(), batch->bufs.data(),
                    static_cast<unsigned>(batch->bufs.size()), [](uv_write_t* req, int status) {
                      std::unique_ptr<WriteBatch> owned(static_cast<WriteBatch*>(req->data));
                      owned->owner->OnWriteDone(owned.get(), status);
                    });
  if (rc != 0) {
    OnConnectionLost(ErrorKind::kConnection, std::string("write failed: ") + uv_strerror(rc),
                     uv_err_name(rc));
    return;
  }
  batch.release();  // owned by the write callback above
  ArmDeadlineTimer();
}

void ConnectionManager::OnWriteDone(WriteBatch* batch, int status) {
  if (status == 0 || batch->conn != conn_.get() || finished_) return;
  OnConnectionLost(ErrorKind::kConnection, std::string("write failed: ") + uv_strerror(status),
                   uv_err_name(status));
  FlushOutbox();
}

void ConnectionManager::OnRead(Connection* conn, ssize_t nread, const uv_buf_t* buf) {
  if (conn != conn_.get() || finished_) return;
  if (nread < 0) {
    if (quit_sent_) {
      Finish();
      return;
    }
    const bool eof = nread == UV_EOF;
    const std::string message =
        eof ? "connection closed by the server"
            : std::string("connection lost: ") + uv_strerror(static_cast<int>(nread));
    const std::string err = eof ? "ECONNRESET" : uv_err_name(static_cast<int>(nread));
    if (state_ == State::kHandshake) {
      ConnectFailed(ErrorKind::kConnection, message, err);
    } else {
      OnConnectionLost(ErrorKind::kConnection, message, err);
    }
    FlushOutbox();
    return;
  }
  if (nread == 0) return;
  ReadStatus status = conn->reader->Feed(buf->base, static_cast<size_t>(nread));
  while (status == ReadStatus::kOk && conn == conn_.get()) {
    std::unique_ptr<Reply> reply;
    status = conn->reader->Next(&reply);
    if (status != ReadStatus::kOk || !reply) break;
    OnReply(std::move(reply));
  }
  if (status != ReadStatus::kOk && conn == conn_.get()) {
    // The stream can no longer be trusted: every written command is rejected and the
    // connection is replaced.
    const ErrorKind kind =
        status == ReadStatus::kTooLarge ? ErrorKind::kReplyTooLarge : ErrorKind::kProtocol;
    const std::string message = "bad reply from the server: " + conn->reader->error();
    if (state_ == State::kHandshake) {
      ConnectFailed(kind, message, "");
    } else {
      OnConnectionLost(kind, message, "");
    }
  }
  if (!finished_) {
    if (graceful_close_) MaybeFinishClose();
    if (!finished_) ArmDeadlineTimer();
  }
  FlushOutbox();
}

void ConnectionManager::OnReply(std::unique_ptr<Reply> reply) {
  last_activity_ms_ = uv_now(&loop_);
  const bool first_reply = conn_ && conn_->replies++ == 0;
  if (first_reply && reply->type == ReplyType::kError && (inflight_.empty() || IsRefusal(*reply))) {
    // The server refused the connection (maxclients, protected mode, ...): its error is not the
    // answer to the first command written. Treat it as a failed connect: every written command
    // and every call while Redis refuses fails with the server's text (e.g. "ERR max number of
    // clients reached"), and the next attempt waits for the backoff.
    ConnectFailed(ErrorKind::kServer, reply->str, "");
    return;
  }
  if (inflight_.empty()) {
    OnConnectionLost(ErrorKind::kProtocol,
                     "bad reply from the server: a reply arrived with no command waiting", "");
    return;
  }
  std::unique_ptr<Request> request = std::move(inflight_.front());
  inflight_.pop_front();
  Untrack(request.get());
  if (request->internal != kUser) {
    OnInternalReply(*request, *reply);
    return;
  }
  if (reply->type != ReplyType::kError) attempt_ = 0;  // the connection works
  Completion c;
  c.id = request->id;
  c.flags = request->flags;
  c.reply = std::move(reply);
  outbox_.push_back(std::move(c));
}

void ConnectionManager::OnInternalReply(const Request& request, const Reply& reply) {
  switch (request.internal) {
    case kHandshake:
    case kHandshakeLast:
      if (reply.type == ReplyType::kError) {
        ConnectFailed(ErrorKind::kServer, reply.str, "");
      } else if (request.internal == kHandshakeLast) {
        BecomeReady();
      }
      break;
    case kPing:
      if (reply.type != ReplyType::kError) attempt_ = 0;
      break;
    case kQuit:
      Finish();
      break;
    default:
      break;
  }
}

// --- timers -----------------------------------------------------------------------------

uint32_t ConnectionManager::TimeoutOf(const Request& request) const {
  return request.timeout_ms ? request.timeout_ms : config_.command_timeout_ms;
}

void ConnectionManager::Track(Request* request) {
  if (request->tracked || request->deadline_ms == kNoDeadline) return;
  request->seq = next_seq_++;
  request->tracked = true;
  deadlines_.insert(DeadlineKey{request->deadline_ms, request->seq, request});
}

void ConnectionManager::Untrack(Request* request) {
  if (!request->tracked) return;
  request->tracked = false;
  deadlines_.erase(DeadlineKey{request->deadline_ms, request->seq, request});
}

void ConnectionManager::ArmDeadlineTimer() {
  if (finished_) return;
  if (deadlines_.empty()) {
    uv_timer_stop(&deadline_timer_);
    return;
  }
  const uint64_t earliest = deadlines_.begin()->deadline_ms;
  const uint64_t now = uv_now(&loop_);
  uv_timer_start(
      &deadline_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<ConnectionManager*>(t->data);
        self->OnDeadline();
        self->FlushOutbox();
      },
      earliest > now ? earliest - now : 0, 0);
}

std::string ConnectionManager::UnreachableDetail() const {
  if (!last_message_.empty()) return "; last error: " + last_message_;
  return "; the connection to Redis is still being opened";
}

void ConnectionManager::OnDeadline() {
  if (finished_) return;
  const uint64_t now = uv_now(&loop_);
  // Only the expired entries are looked at: the index is ordered by deadline.
  uint32_t written_timeout = 0;
  bool pending_expired = false;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->deadline_ms <= now; ++it) {
    if (it->request->written) {
      if (written_timeout == 0) written_timeout = TimeoutOf(*it->request);
    } else {
      pending_expired = true;
    }
  }
  if (written_timeout != 0) {
    // A reply that comes later would belong to a caller that gave up: replace the
    // connection so it can never be handed to the next command. Written commands are
    // not re-sent (they may not be idempotent).
    OnConnectionLost(ErrorKind::kTimeout,
                     "no reply within " + std::to_string(written_timeout) +
                         " ms (commandTimeout); the connection was recycled and the command "
                         "is not re-sent",
                     "ETIMEDOUT");
  }
  if (pending_expired && !finished_) {
    // Commands still waiting to be written (Redis down or connecting) that ran out of time.
    const std::string detail = UnreachableDetail();
    std::deque<std::unique_ptr<Request>> keep;
    while (!pending_.empty()) {
      auto request = std::move(pending_.front());
      pending_.pop_front();
      if (request->deadline_ms <= now) {
        const uint32_t timeout = TimeoutOf(*request);
        Reject(std::move(request), ErrorKind::kTimeout,
               "not sent within " + std::to_string(timeout) +
                   " ms (commandTimeout): Redis is not reachable" + detail,
               "ETIMEDOUT");
      } else {
        keep.push_back(std::move(request));
      }
    }
    pending_ = std::move(keep);
  }
  if (graceful_close_) MaybeFinishClose();
  ArmDeadlineTimer();
}

void ConnectionManager::CancelResolve() {
  if (resolving_ == nullptr) return;
  // On success the callback runs with UV_EAI_CANCELED; on failure (already running) it runs
  // with the answer, which the generation check ignores. Either way it frees the request.
  uv_cancel(reinterpret_cast<uv_req_t*>(&resolving_->req));
  resolving_ = nullptr;
}

void ConnectionManager::OnHealthTick() {
  if (state_ != State::kReady || finished_ || !inflight_.empty() || !pending_.empty()) return;
  if (uv_now(&loop_) - last_activity_ms_ < config_.health_interval_ms) return;
  SendInternal(kPing, Encode({"PING"}), config_.command_timeout_ms);
}

void ConnectionManager::SendInternal(uint8_t kind, std::string bytes, uint32_t timeout_ms) {
  auto request = std::make_unique<Request>();
  request->bytes = std::move(bytes);
  request->internal = kind;
  request->deadline_ms = uv_now(&loop_) + timeout_ms;
  Track(request.get());
  pending_.push_back(std::move(request));
  Flush();
}

// --- closing ----------------------------------------------------------------------------

void ConnectionManager::MaybeFinishClose() {
  if (!graceful_close_ || quit_sent_ || finished_) return;
  for (const auto& r : pending_) {
    if (r->internal == kUser) return;
  }
  for (const auto& r : inflight_) {
    if (r->internal == kUser) return;
  }
  if (state_ == State::kReady && conn_) {
    quit_sent_ = true;
    SendInternal(kQuit, Encode({"QUIT"}), config_.command_timeout_ms);
  } else {
    Finish();
  }
}

void ConnectionManager::OnCloseTimeout() {
  if (finished_) return;
  RejectPending(ErrorKind::kClosed, "disconnect timed out before the command was sent", "");
  DropConnection(ErrorKind::kClosed, "disconnect timed out before the reply arrived", "");
  Finish();
  FlushOutbox();
}

void ConnectionManager::Finish() {
  if (finished_) return;
  // A queued host name lookup would keep the loop (and so the close) waiting for it.
  CancelResolve();
  RejectPending(ErrorKind::kClosed, "the client was closed", "");
  DropConnection(ErrorKind::kClosed, "the client was closed before the reply arrived", "");
  finished_ = true;
  state_ = State::kClosed;
  ++generation_;
  for (uv_timer_t* timer : {&deadline_timer_, &connect_timer_, &health_timer_, &reconnect_timer_,
                            &close_timer_, &connect_retry_timer_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_closed_ = true;
    closing_ = true;
    // Commands that slipped in after the close started were never admitted.
    for (auto& request : submitted_) {
      Reject(std::move(request), ErrorKind::kClosed, "the client was closed", "");
    }
    submitted_.clear();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  FlushOutbox();
}

}  // namespace ncm::redis
