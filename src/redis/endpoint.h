// Endpoint: one logical Redis node, kept reachable. It owns the node's connection (at most
// one), the commands waiting for it, their deadlines, reconnecting with backoff, failing
// fast while the node is down, and the graceful close.
//
// States (an explicit machine; every transition is in endpoint.cc):
//
//   kIdle --first Flush--> kConnecting --transport--> kHandshake --last reply--> kReady
//                                 |  (no handshake needed: straight to kReady)        |
//                      dial/handshake failed                              connection lost
//                                 v                                                   |
//   kBackoff <--failed again-- (reconnect at once after a loss that follows a success) <
//      |  --backoff timer--> kConnecting
//   any state --Close() finished, Abort()--> kClosed
//
// With a credentials provider, kConnecting --transport--> kCredentials: the listener is
// asked for the attempt's credentials (OnCredentialsWanted) and the handshake starts with
// their answer (OnCredentials); a failed answer fails the attempt like a failed dial. The
// wait never blocks the loop, and the connect timeout bounds it (the attempt is not settled
// before the handshake's last reply).
//
// While the node is known to be down (an attempt failed since the last ready connection)
// at most `offline_queue` commands wait for it; the rest fail fast with the last error. A
// command that was written and not answered is never re-sent: on a loss or a timeout it is
// rejected and the connection replaced, so a late reply can never reach the wrong caller.
//
// Loop thread only: every method, and every call to the Listener, runs on the thread that
// runs `loop` (the connection manager's I/O thread, or a test's own loop).
#ifndef NCM_REDIS_ENDPOINT_H_
#define NCM_REDIS_ENDPOINT_H_

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "redis/address_source.h"
#include "redis/backoff.h"
#include "redis/config.h"
#include "redis/credentials.h"
#include "redis/deadline_index.h"
#include "redis/dialer.h"
#include "redis/failure.h"
#include "redis/handshake.h"
#include "redis/node_connection.h"
#include "redis/request.h"
#include "redis/timer.h"

namespace ncm::redis {

class Endpoint : private Dialer::Listener, private NodeConnection::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // A caller's request is done: replied to, or failed. By rvalue reference, so that on its
    // way to the sink's batch a completion is moved once rather than once per call.
    virtual void OnCompletion(Completion&& completion) = 0;
    // The endpoint has closed (Close() finished, or Abort()): every request was completed,
    // nothing of it is active on the loop any more, and nothing is reported after this.
    virtual void OnEndpointClosed() = 0;
    // Connect attempt `attempt` has its socket and needs the credentials for its AUTH (only
    // with Config::credentials_provider): answer with OnCredentials, from a later turn of
    // the loop (never from inside this call).
    virtual void OnCredentialsWanted(uint64_t attempt) = 0;
  };

  enum class State : uint8_t {
    kIdle,
    kConnecting,
    kCredentials,
    kHandshake,
    kReady,
    kBackoff,
    kClosed
  };

  Endpoint(uv_loop_t* loop, const Config& config, Listener* listener);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Takes a caller's request: its deadline starts now (uv_now). Requests admitted together
  // are written together by the next Flush().
  void Admit(std::unique_ptr<Request> request);
  // Writes the admitted requests when the connection is ready (otherwise they wait); on
  // first use, starts connecting (after the whole batch is admitted, so the time spent
  // admitting it never counts against the connect timeout).
  void Flush();

  // Graceful close: admitted requests still get their replies, then QUIT, then the socket
  // closes and OnEndpointClosed() reports the end. Bound it with Abort().
  void Close();
  // Rejects everything at once (`unsent_message` for requests not yet written,
  // `unanswered_message` for those in flight), drops the connection, and closes.
  void Abort(const std::string& unsent_message, const std::string& unanswered_message);

  // The credentials provider's answer for a connect attempt: the handshake goes out with
  // them, or the attempt fails with the answer's error (kind kCredentials). An answer for an
  // attempt that is over (failed, timed out, closed) is dropped, its password wiped.
  void OnCredentials(CredentialsAnswer answer);

  State state() const { return state_; }

 private:
  // Dialer::Listener
  void OnDialed(std::unique_ptr<Transport> transport) override;
  void OnDialFailed(const Failure& failure) override;
  // NodeConnection::Listener
  void OnReply(std::unique_ptr<Request> request, std::unique_ptr<Reply> reply) override;
  void OnRefused(const std::string& text) override;
  void OnLost(const Failure& failure) override;
  void OnHealthy() override;

  // The request's own timeout, or the default command timeout.
  uint32_t TimeoutOf(const Request& request) const;
  void AdmitWhileDown(std::unique_ptr<Request> request);
  void StartConnect();
  // Writes the handshake (alone) on the new connection, or becomes ready when there is
  // nothing to say.
  void StartHandshake(std::deque<std::unique_ptr<Request>> handshake);
  void BecomeReady();
  // A connect attempt (dial or handshake) failed: the node is down. Waiting requests fail
  // fast (or stay, up to the offline queue) and a reconnect is scheduled.
  void ConnectFailed(const Failure& failure);
  // A working connection broke: reconnect (at once, then with backoff).
  void ConnectionLost(const Failure& failure);
  void ScheduleReconnect();
  // Drops the connection; its written requests are rejected with `failure`.
  void DropConnection(const Failure& failure);
  void Reject(std::unique_ptr<Request> request, const Failure& failure);
  void RejectPending(const Failure& failure);
  void Track(Request* request);
  void RearmDeadlineTimer();
  void OnDeadline();
  void RejectExpiredPending(uint64_t now);
  // "; last error: …" (or why there is none yet), for requests that never reached Redis.
  std::string UnreachableDetail() const;
  void MaybeFinishClose();
  void Finish();

  uv_loop_t* const loop_;
  const Config config_;
  Listener* const listener_;
  const HandshakeOptions handshake_;
  const NodeOptions node_options_;
  AddressSource source_;
  Dialer dialer_;
  Backoff backoff_;
  Timer deadline_timer_;
  Timer reconnect_timer_;

  State state_ = State::kIdle;
  std::unique_ptr<NodeConnection> conn_;
  std::deque<std::unique_ptr<Request>> pending_;  // admitted, not yet written
  DeadlineIndex deadlines_;                       // pending and in flight
  uint64_t armed_deadline_ = kNoDeadline;         // where deadline_timer_ fires
  uint64_t user_outstanding_ = 0;                 // callers' requests admitted, not completed
  uint64_t attempt_started_ms_ = 0;
  uint64_t attempt_ = 0;  // the current connect attempt's number (for credentials answers)
  // An attempt failed since the last ready connection: Redis is known to be down, so the
  // offline-queue cap applies during the next attempts too, not only between them.
  bool down_ = false;
  bool graceful_ = false;  // Close() was called
  bool quit_sent_ = false;
  Failure last_;  // the last failure, for requests that fail while Redis is down
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_ENDPOINT_H_
