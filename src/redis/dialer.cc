#include "redis/dialer.h"

#include <utility>

namespace ncm::redis {
namespace {

// Worded like Node's net errors: "connect ECONNREFUSED 127.0.0.1:6399: connection refused".
Failure ConnectFailure(const std::string& address, int status) {
  const std::string code = uv_err_name(status);
  return Failure{ErrorKind::kConnection,
                 "connect " + code + " " + address + ": " + uv_strerror(status), code};
}

}  // namespace

Dialer::Dialer(uv_loop_t* loop, const DialOptions& options, AddressSource* source,
               Listener* listener)
    : loop_(loop),
      options_(options),
      source_(source),
      listener_(listener),
      connect_timer_(loop, [this] { OnConnectTimeout(); }),
      retry_timer_(loop, [this] { OnConnectRetry(); }) {}

Dialer::~Dialer() { Cancel(); }

void Dialer::Dial() {
  Cancel();
  connect_timer_.Start(options_.connect_timeout_ms);
  connect_due_ms_ = uv_now(loop_) + options_.connect_timeout_ms;
  addresses_.clear();
  next_address_ = 0;
  socket_ = std::make_unique<TcpTransport>(loop_);
  if (source_->is_path()) {
    socket_->ConnectPipe(source_->path(), this);
    return;
  }
  source_->Resolve(this);
}

void Dialer::Settle() {
  connect_timer_.Stop();
  connect_due_ms_ = 0;
}

void Dialer::ExpireIfDue(uint64_t now) {
  if (connect_due_ms_ != 0 && connect_due_ms_ <= now) OnConnectTimeout();
}

void Dialer::Cancel() {
  connect_timer_.Stop();
  connect_due_ms_ = 0;
  source_->Cancel();
  CloseSpare();
  tls_.reset();
  socket_.reset();
}

void Dialer::Fail(const Failure& failure) {
  Cancel();
  listener_->OnDialFailed(failure);
}

void Dialer::OnAddresses(std::vector<sockaddr_storage> addresses) {
  addresses_ = std::move(addresses);
  next_address_ = 1;
  ConnectTo(addresses_[0]);
}

void Dialer::OnResolveFailed(const Failure& failure) { Fail(failure); }

void Dialer::ConnectTo(const sockaddr_storage& address) {
  CloseSpare();
  int rc = socket_->Connect(reinterpret_cast<const sockaddr*>(&address), this);
  if (rc != 0) {
    Fail(ConnectFailure(source_->address(), rc));
    return;
  }
  if (options_.connect_retry_ms > 0 && options_.connect_retry_ms < options_.connect_timeout_ms) {
    retry_timer_.Start(options_.connect_retry_ms, options_.connect_retry_ms);
  }
}

void Dialer::OnConnectRetry() {
  if (!socket_ || source_->is_path() || next_address_ == 0) {
    retry_timer_.Stop();
    return;
  }
  // Replaces the previous spare (its SYN is as stale as the first socket's by now); the
  // timer keeps running, so a fresh SYN leaves every connect_retry_ms until the timeout.
  spare_ = std::make_unique<TcpTransport>(loop_);
  const sockaddr_storage& address = addresses_[next_address_ - 1];
  if (spare_->Connect(reinterpret_cast<const sockaddr*>(&address), this) != 0) {
    spare_.reset();  // the first socket's own outcome decides
  }
}

void Dialer::CloseSpare() {
  retry_timer_.Stop();
  spare_.reset();
}

void Dialer::OnConnect(TcpTransport* transport, int status) {
  if (spare_ && transport == spare_.get()) {
    // The fresher SYN was answered first (connected, or refused: either way the server is
    // reachable again): it becomes the connection and the first socket is dropped.
    socket_ = std::move(spare_);
  }
  if (!socket_ || transport != socket_.get()) return;
  CloseSpare();
  if (status != 0) {
    if (next_address_ < addresses_.size()) {
      // A name with several addresses (e.g. localhost -> ::1 and 127.0.0.1): try the next
      // one within the same connect timeout.
      socket_ = std::make_unique<TcpTransport>(loop_);
      ConnectTo(addresses_[next_address_++]);
      return;
    }
    Fail(ConnectFailure(source_->address(), status));
    return;
  }
  socket_->SetKeepAlive(options_.keepalive_ms);
  if (!options_.tls) {
    listener_->OnDialed(std::move(socket_));
    return;
  }
  tls_ = std::make_unique<TlsTransport>(loop_, options_.tls, std::move(socket_), source_->host());
  Failure failure;
  if (!tls_->StartHandshake(this, &failure)) Fail(failure);
}

void Dialer::OnTlsHandshake(TlsTransport* transport, const Failure* failure) {
  if (transport != tls_.get()) return;
  if (failure != nullptr) {
    Fail(*failure);
    return;
  }
  listener_->OnDialed(std::move(tls_));
}

void Dialer::OnConnectTimeout() {
  Fail(Failure{ErrorKind::kConnectTimeout,
               "connect ETIMEDOUT " + source_->address() + ": no connection within " +
                   std::to_string(options_.connect_timeout_ms) + " ms (connectTimeout)",
               "ETIMEDOUT"});
}

}  // namespace ncm::redis
