// TcpTransport: a Transport over a libuv stream, a TCP socket or a unix socket. It also does
// the one thing a socket does before it is a transport: connect (the Dialer decides where,
// when, and how many sockets at a time).
//
// Loop thread only. May be destroyed at any time, also from inside a callback it makes: the
// libuv handle, its connect request and the read buffer live on the heap until libuv's close
// callback, and a destroyed transport makes no more calls.
#ifndef NCM_REDIS_TCP_TRANSPORT_H_
#define NCM_REDIS_TCP_TRANSPORT_H_

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "redis/transport.h"

namespace ncm::redis {

class TcpTransport final : public Transport {
 public:
  class ConnectListener {
   public:
    virtual ~ConnectListener() = default;
    // The connect finished: status 0, or a libuv error (UV_ECONNREFUSED, …).
    virtual void OnConnect(TcpTransport* transport, int status) = 0;
  };

  explicit TcpTransport(uv_loop_t* loop);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Connects a new TCP socket (TCP_NODELAY on) to `address`. Returns 0, or a libuv error
  // (then `listener` is not called). Call one of the two Connect methods once.
  int Connect(const sockaddr* address, ConnectListener* listener);
  // Connects a new unix socket to `path`; the outcome always comes through `listener`.
  void ConnectPipe(const std::string& path, ConnectListener* listener);

  // After a TCP connect: keepalive probes after `delay_ms` of silence, then every second, 3 of
  // them, and unacknowledged writes bounded the same way (Linux): a dead peer is noticed in
  // seconds rather than the kernel's default hours. No-op on a unix socket or for 0.
  void SetKeepAlive(uint32_t delay_ms);

  // Transport
  void Start(Listener* listener) override;
  int Write(std::vector<std::string> chunks, WriteKind kind) override;
  void Close(bool reset) override;

 private:
  struct Socket;
  struct WriteBatch;

  uv_loop_t* const loop_;
  Socket* socket_;  // owned until Close(); then by libuv's close callback
  Listener* listener_ = nullptr;
  ConnectListener* connect_listener_ = nullptr;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_TCP_TRANSPORT_H_
