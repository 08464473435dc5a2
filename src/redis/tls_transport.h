// TlsTransport: TLS over another Transport (a connected TcpTransport). OpenSSL runs over a
// pair of memory BIOs on the loop thread: ciphertext the socket receives goes into one,
// what OpenSSL wants sent comes out of the other and is written to the socket. libuv keeps
// the socket; OpenSSL never touches a file descriptor.
//
// Life: StartHandshake() (client hello; verification of the server's certificate and name
// unless the context says not to), the handshake outcome through HandshakeListener, then the
// ordinary Transport calls. Loop thread only. May be destroyed at any time on that thread,
// also from inside a call to one of its listeners.
#ifndef NCM_REDIS_TLS_TRANSPORT_H_
#define NCM_REDIS_TLS_TRANSPORT_H_

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "redis/destroy_guard.h"
#include "redis/failure.h"
#include "redis/timer.h"
#include "redis/tls_context.h"
#include "redis/transport.h"

struct ssl_st;  // SSL
struct bio_st;  // BIO

namespace ncm::redis {

class TlsTransport final : public Transport, private Transport::Listener {
 public:
  class HandshakeListener {
   public:
    virtual ~HandshakeListener() = default;
    // `failure` is null when the handshake succeeded; otherwise it says why (kind kTls, a
    // message worded like Node's, Node's error code in `err`).
    virtual void OnTlsHandshake(TlsTransport* transport, const Failure* failure) = 0;
  };

  // `host` is what the peer's certificate must name when the context has no servername;
  // `address` names the peer in messages.
  TlsTransport(uv_loop_t* loop, std::shared_ptr<const TlsContext> context,
               std::unique_ptr<Transport> inner, std::string host);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Sends the client hello. Returns false (and `*failure`) when TLS could not even start;
  // otherwise the outcome comes later through `listener`.
  bool StartHandshake(HandshakeListener* listener, Failure* failure);

  // Transport (after a successful handshake)
  void Start(Transport::Listener* listener) override;
  int Write(std::vector<std::string> chunks, WriteKind kind) override;
  void Close(bool reset) override;

  // Called by OpenSSL's verify callback (tls_transport.cc): the peer's subject alternative
  // names, kept for the message of a name mismatch.
  void set_peer_names(std::string names) { peer_names_ = std::move(names); }

 private:
  // Transport::Listener (the socket below)
  void OnTransportRead(const char* data, size_t size) override;
  void OnTransportError(const TransportError& error) override;

  void AdvanceHandshake();
  void FailHandshake(Failure failure);
  // Decrypts what has arrived and hands it up; reports a TLS error or the peer's close.
  void Pump();
  // pump_timer_'s turn: reports a failure Write() left for it, or else Pump()s.
  void OnPumpTimer();
  // Appends what OpenSSL has produced for the socket to `chunks`.
  void FlushOutput(std::vector<std::string>* chunks);
  // Why the handshake (or a record) failed, as Node words it, and Node's code for it.
  Failure Describe(const char* stage);

  uv_loop_t* const loop_;
  const std::shared_ptr<const TlsContext> context_;
  std::unique_ptr<Transport> inner_;
  const std::string host_;
  ssl_st* ssl_ = nullptr;
  bio_st* network_in_ = nullptr;   // owned by ssl_: ciphertext from the socket
  bio_st* network_out_ = nullptr;  // owned by ssl_: ciphertext for the socket
  HandshakeListener* handshake_listener_ = nullptr;
  Transport::Listener* listener_ = nullptr;
  bool handshaking_ = false;
  bool failed_ = false;  // a failure was reported: nothing more is
  std::string peer_names_;
  uint64_t received_after_handshake_ = 0;  // bytes from the socket since the handshake ended
  std::unique_ptr<char[]> plain_;          // decrypted bytes on their way up
  // A failure found inside Write(), reported to the listener on the next turn of the loop
  // (never from inside the listener's own call to Write()).
  std::optional<TransportError> write_failure_;
  Timer pump_timer_;  // delivers what arrived with the handshake, after Start; or write_failure_
  DestroyGuard guard_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_TLS_TRANSPORT_H_
