// NodeConnection: one connected socket's pipeline. Writes whatever it is given in one
// transport write (the endpoint hands over everything a wake-up brought: automatic
// pipelining), matches replies to written requests first-in first-out, and keeps an idle
// connection honest with a health PING.
//
// It knows nothing of reconnecting or of callers: replies go up with their request, and a
// socket that can no longer be trusted (closed, reset, bytes that are not RESP, a write that
// failed, a PING left unanswered) is reported once through OnLost; the endpoint then takes
// back the written requests and destroys the connection.
//
// Loop thread only. May be destroyed at any time on that thread, also from inside a call
// to its listener.
#ifndef NCM_REDIS_NODE_CONNECTION_H_
#define NCM_REDIS_NODE_CONNECTION_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "redis/destroy_guard.h"
#include "redis/failure.h"
#include "redis/reply_reader.h"
#include "redis/request.h"
#include "redis/timer.h"
#include "redis/transport.h"

namespace ncm::redis {

struct NodeOptions {
  ReaderLimits limits;
  uint32_t health_interval_ms = 1000;              // PING after this long idle; 0 = never
  uint32_t ping_timeout_ms = 500;                  // the PING's own reply timeout
  std::shared_ptr<ReplyBufferPool> reply_buffers;  // for the reader; may be null
};

class NodeConnection : private Transport::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The reply to `request` (a caller's command or one of the endpoint's own; never the
    // health PING, which the connection handles itself).
    virtual void OnReply(std::unique_ptr<Request> request, std::unique_ptr<Reply> reply) = 0;
    // The server refused the connection: its first reply was an error it sends on accept
    // (maxclients, protected mode), not an answer to the first command written.
    virtual void OnRefused(const std::string& text) = 0;
    // The connection can no longer be used. Reported once; destroy the connection.
    virtual void OnLost(const Failure& failure) = 0;
    // A health PING was answered: the server works.
    virtual void OnHealthy() = 0;
  };

  // Starts reading from `transport` at once.
  NodeConnection(uv_loop_t* loop, std::unique_ptr<Transport> transport, const NodeOptions& options,
                 Listener* listener);
  ~NodeConnection();  // closes the socket with FIN (see Close for RST)
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Writes every request of `queue` (left empty) in one transport write; they are then in
  // flight. Returns false when the write could not be queued: `*failure` says why, the
  // requests are in flight all the same (take them back with TakeInflight).
  bool Write(std::deque<std::unique_ptr<Request>>* queue, Failure* failure);

  // Starts the idle health check (once the connection is ready for callers).
  void StartHealthChecks();

  bool has_inflight() const { return !inflight_.empty(); }
  // The requests written and not answered, oldest first (the health PING among them).
  std::deque<std::unique_ptr<Request>> TakeInflight();

  // Closes the socket now. `reset` (RST) makes the kernel drop the bytes it still holds to
  // send: written commands then never reach the server after their callers saw them fail.
  void Close(bool reset);

 private:
  // Transport::Listener
  void OnTransportRead(const char* data, size_t size) override;
  void OnTransportError(const TransportError& error) override;

  void HandleReply(std::unique_ptr<Reply> reply);
  void OnHealthTick();
  void OnPingTimeout();

  uv_loop_t* const loop_;
  const NodeOptions options_;
  Listener* const listener_;
  std::unique_ptr<Transport> transport_;
  RespReader reader_;
  size_t feed_slice_;  // bytes handed to reader_ at a time (see node_connection.cc)
  std::deque<std::unique_ptr<Request>> inflight_;  // written, waiting for a reply
  uint64_t replies_ = 0;                           // replies read so far
  uint64_t last_activity_ms_ = 0;
  bool lost_ = false;  // OnLost was reported (or the socket closed): nothing more is reported
  Timer health_timer_;
  Timer ping_timer_;
  DestroyGuard guard_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_NODE_CONNECTION_H_
