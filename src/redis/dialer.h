// Dialer: turns an endpoint's address into a connected Transport, one attempt at a time.
//
// An attempt: find the addresses (AddressSource), connect to each in turn until one
// answers, and while a SYN gets no answer (a partition drops it) send a fresh one from a
// spare socket every `connect_retry_ms`: the kernel retransmits a lost SYN only after 1 s,
// 3 s, 7 s, so a healed network would go unnoticed for that long. The first socket keeps
// waiting meanwhile (a slow link still connects); whichever answers first wins. The connect
// timeout bounds the whole attempt, from Dial() to Settle(): the transport is handed over
// before the endpoint's own handshake (AUTH, SELECT), and that handshake counts too.
//
// With TLS the attempt goes on over the connected socket with the TLS handshake, which the
// connect timeout bounds as well; a refused certificate or handshake fails the attempt.
//
// Loop thread only. Reports to its Listener on the loop thread, possibly before Dial()
// returns (an address that fails at once).
#ifndef NCM_REDIS_DIALER_H_
#define NCM_REDIS_DIALER_H_

#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "redis/address_source.h"
#include "redis/failure.h"
#include "redis/tcp_transport.h"
#include "redis/timer.h"
#include "redis/tls_context.h"
#include "redis/tls_transport.h"
#include "redis/transport.h"

namespace ncm::redis {

struct DialOptions {
  uint32_t connect_timeout_ms = 1000;
  uint32_t connect_retry_ms = 500;        // spare SYN period; 0 = off
  uint32_t keepalive_ms = 1000;           // TCP keepalive delay; 0 = off
  std::shared_ptr<const TlsContext> tls;  // TLS over the socket; null = plain
};

class Dialer : private AddressSource::Listener,
               private TcpTransport::ConnectListener,
               private TlsTransport::HandshakeListener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // A connected transport. The attempt stays open (its connect timeout running) until
    // Settle() or Cancel().
    virtual void OnDialed(std::unique_ptr<Transport> transport) = 0;
    // The attempt failed: no address answered, a lookup failed, or the connect timeout
    // passed (also after OnDialed, while the attempt was not settled). Nothing is left open.
    virtual void OnDialFailed(const Failure& failure) = 0;
  };

  // `source` must outlive the dialer.
  Dialer(uv_loop_t* loop, const DialOptions& options, AddressSource* source, Listener* listener);
  ~Dialer();
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;

  // Starts an attempt (cancelling one under way).
  void Dial();
  // The attempt succeeded: stops its connect timeout.
  void Settle();
  // Abandons the attempt: sockets still connecting are closed, a lookup is dropped.
  void Cancel();
  // Fails the attempt with its connect timeout if that is due at `now` (loop time) and its
  // timer has not fired yet: a caller whose own deadline falls in the same millisecond sees
  // the connect timeout first, whichever timer libuv runs first.
  void ExpireIfDue(uint64_t now);

 private:
  // AddressSource::Listener
  void OnAddresses(std::vector<sockaddr_storage> addresses) override;
  void OnResolveFailed(const Failure& failure) override;
  // TcpTransport::ConnectListener
  void OnConnect(TcpTransport* transport, int status) override;
  // TlsTransport::HandshakeListener
  void OnTlsHandshake(TlsTransport* transport, const Failure* failure) override;

  void ConnectTo(const sockaddr_storage& address);
  void OnConnectRetry();
  void OnConnectTimeout();
  void CloseSpare();
  void Fail(const Failure& failure);

  uv_loop_t* const loop_;
  const DialOptions options_;
  AddressSource* const source_;
  Listener* const listener_;
  Timer connect_timer_;
  uint64_t connect_due_ms_ = 0;  // loop time the attempt's connect timeout is due; 0 = none
  Timer retry_timer_;
  std::unique_ptr<TcpTransport> socket_;  // the connect in progress
  // During a TCP connect: a second socket to the same address with a fresher SYN.
  std::unique_ptr<TcpTransport> spare_;
  std::unique_ptr<TlsTransport> tls_;  // the TLS handshake in progress
  std::vector<sockaddr_storage> addresses_;
  size_t next_address_ = 0;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_DIALER_H_
