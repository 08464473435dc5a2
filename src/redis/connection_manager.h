// ConnectionManager: one Redis endpoint, one I/O thread, one connection (for now; the
// node set is kept behind this class so Cluster/Sentinel can add more later).
//
// Threads:
// - The JS thread (the owner) calls SubmitMany (Submit for one request), Close, StopAndJoin
//   and Join. Submitting only appends to a mutex-protected queue and wakes the I/O thread
//   with uv_async_send.
// - The I/O thread runs its own uv_loop_t. It owns the socket, the RESP reader and every
//   timer, drains the whole submit queue per wake-up and writes everything it got in one
//   uv_write (automatic pipelining), and hands completions to the Sink in batches.
//
// Connection states: idle (never used: nothing open) -> connecting -> handshake (AUTH,
// SELECT, CLIENT SETNAME) -> ready; on loss -> reconnecting at once, then backoff
// (50 * 2^n ms, capped, with jitter; reset after a successful reply) while Redis is down.
// Attempts start at least one backoff step apart; an attempt that waited out the connect
// timeout has already waited its step. While a SYN gets no answer (a partition), a spare
// socket sends a new one every connect_retry_ms, so a healed network is noticed in well under
// a second whatever the connect timeout.
// While Redis is known to be down, commands fail fast unless an offline queue is set.
// A command that was written and not answered is never re-sent: on connection loss or a
// command timeout it is rejected and the connection is recycled, so a late reply can
// never reach the wrong caller.
#ifndef NCM_REDIS_CONNECTION_MANAGER_H_
#define NCM_REDIS_CONNECTION_MANAGER_H_

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "redis/reply_reader.h"
#include "redis/request.h"

namespace ncm::redis {

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string path;  // unix socket; used instead of host:port when not empty
  std::string username;
  std::string password;
  uint32_t db = 0;
  std::string client_name;
  uint32_t connect_timeout_ms = 1000;
  uint32_t command_timeout_ms = 500;
  uint32_t offline_queue = 0;          // commands held while Redis is down; 0 = fail fast
  uint32_t health_interval_ms = 1000;  // PING an idle connection this often; 0 = never
  uint32_t keepalive_ms = 1000;        // TCP keepalive delay; 0 = off
  uint32_t reconnect_base_ms = 50;
  uint32_t reconnect_max_ms = 1000;  // a healed server is found within 1 s (R4)
  // While a TCP connect gets no answer, a fresh SYN goes out on a second socket this often
  // (the first one keeps waiting, for slow links); the kernel's own SYN retransmission comes
  // only after 1 s, then 3 s, 7 s. 0 = off.
  uint32_t connect_retry_ms = 500;
  ReaderLimits limits;
};

// Receives completions. Called on the I/O thread; must not block for long.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Deliver(std::vector<Completion> batch) = 0;
  // The I/O thread has finished (after Close or StopAndJoin); nothing is delivered after.
  virtual void Closed() = 0;
};

class ConnectionManager {
 public:
  ConnectionManager(Config config, std::shared_ptr<Sink> sink);
  ~ConnectionManager();  // StopAndJoin()
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  // JS thread. Starts the I/O thread on first use (lazy connect). Returns false when the
  // manager is closing or the thread could not start; the request is then not taken.
  bool Submit(std::unique_ptr<Request> request);
  // JS thread. Submits a whole batch (one lock, one wake-up); on success `batch` is left
  // empty, on failure (closing) it is left untouched.
  bool SubmitMany(std::vector<std::unique_ptr<Request>>* batch);

  // JS thread. Graceful close: queued and in-flight commands finish, QUIT is sent, the
  // socket closes; at `timeout_ms` whatever is left is rejected and everything closes.
  // Sink::Closed() reports the end. Returns false when the thread never started (nothing
  // to close: Closed() is not called).
  bool Close(uint32_t timeout_ms);

  // JS thread. Rejects everything, closes at once, joins the thread. Idempotent. Used by
  // finalizers and the environment cleanup hook: it never waits for the network.
  void StopAndJoin();

  // JS thread. Joins a thread that already reported Closed().
  void Join();

  std::string Address() const;

 private:
  // Defined in the .cc; public there only to the file's callbacks.
 public:
  struct Connection;
  struct WriteBatch;
  struct Resolve;

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHandshake, kReady, kBackoff, kClosed };

  // I/O thread only from here on.
  void Run();
  void OnWake();
  // The request's own timeout, or the default command timeout.
  uint32_t TimeoutOf(const Request& request) const;
  void AdmitWhileDown(std::unique_ptr<Request> request);
  void Admit(std::unique_ptr<Request> request);
  void StartConnect();
  void ConnectTo(const sockaddr* addr);
  int OpenTcp(Connection* conn, const sockaddr* addr);  // uv_tcp_connect on a new handle
  void OnConnected(Connection* conn, int status);
  void OnRead(Connection* conn, ssize_t nread, const uv_buf_t* buf);
  void OnReply(std::unique_ptr<Reply> reply);
  void OnInternalReply(const Request& request, const Reply& reply);
  void SendHandshake();
  void BecomeReady();
  void Flush();                                                // writes pending_ when ready
  void WriteNow(std::deque<std::unique_ptr<Request>>* queue);  // one uv_write for all
  void OnWriteDone(WriteBatch* batch, int status);
  // Deadline index: every request with a deadline, pending or in flight, ordered by it,
  // so the timer always targets the earliest one whatever the mix of per-call timeouts.
  void Track(Request* request);
  void Untrack(Request* request);
  void ArmDeadlineTimer();
  void OnDeadline();
  // "; last error: …" (or why there is none yet), for commands that never reached Redis.
  std::string UnreachableDetail() const;
  // Cancels a host name lookup still queued on the thread pool (its callback then sees
  // UV_EAI_CANCELED). A lookup already running cannot be cancelled; its answer is ignored.
  void CancelResolve();
  void OnConnectTimeout();
  // Opens (or replaces) the spare socket of a TCP connect still waiting for its SYN-ACK.
  void OnConnectRetry();
  void CloseSpare();
  void OnHealthTick();
  void OnReconnectTimer();
  void OnCloseTimeout();
  std::unique_ptr<Connection> NewConnection();
  // `reset`: abort (RST) instead of FIN, dropping any bytes the kernel still holds to send.
  void CloseSocket(std::unique_ptr<Connection> conn, bool reset = false);
  // Drops the socket: written commands are rejected with (kind, message, errno).
  void DropConnection(ErrorKind kind, const std::string& message, const std::string& err);
  // A connect attempt failed: Redis is down. Pending commands fail fast (or wait in the
  // offline queue) and a reconnect is scheduled.
  void ConnectFailed(ErrorKind kind, const std::string& message, const std::string& err);
  // A working connection broke: reconnect (at once, then with backoff).
  void OnConnectionLost(ErrorKind kind, const std::string& message, const std::string& err);
  void ScheduleReconnect();
  void RejectPending(ErrorKind kind, const std::string& message, const std::string& err);
  void Reject(std::unique_ptr<Request> request, ErrorKind kind, const std::string& message,
              const std::string& err);
  void MaybeFinishClose();
  void Finish();
  void FlushOutbox();
  void SendInternal(uint8_t kind, std::string bytes, uint32_t timeout_ms);

  const Config config_;
  const std::shared_ptr<Sink> sink_;

  // Shared between threads, guarded by mutex_.
  std::mutex mutex_;
  std::vector<std::unique_ptr<Request>> submitted_;
  bool started_ = false;
  bool closing_ = false;  // no more Submit
  bool close_requested_ = false;
  uint32_t close_timeout_ms_ = 0;
  bool stop_requested_ = false;
  bool wake_closed_ = false;  // set by the I/O thread before it closes wake_
  bool joined_ = false;

  std::thread thread_;
  uv_loop_t loop_;
  uv_async_t wake_;

  // I/O thread state.
  State state_ = State::kIdle;
  bool graceful_close_ = false;
  bool quit_sent_ = false;
  bool finished_ = false;
  uint32_t attempt_ = 0;  // failed attempts since the last success
  // A connect attempt failed since the last ready connection: Redis is known to be down, so
  // the offline-queue cap applies during the next attempts too, not only between them.
  bool down_ = false;
  uint64_t last_activity_ms_ = 0;
  std::unique_ptr<Connection> conn_;  // the live connection, if any
  // During a TCP connect: a second socket to the same address with a fresher SYN; the one
  // that completes first (connected or refused) becomes conn_.
  std::unique_ptr<Connection> spare_;
  sockaddr_storage connect_addr_{};
  uint64_t attempt_started_ms_ = 0;
  std::deque<std::unique_ptr<Request>> pending_;   // not yet written
  std::deque<std::unique_ptr<Request>> inflight_;  // written, waiting for a reply
  struct DeadlineKey {
    uint64_t deadline_ms;
    uint64_t seq;
    Request* request;  // owned by pending_ or inflight_
    bool operator<(const DeadlineKey& other) const {
      return deadline_ms != other.deadline_ms ? deadline_ms < other.deadline_ms : seq < other.seq;
    }
  };
  std::set<DeadlineKey> deadlines_;
  uint64_t next_seq_ = 1;
  Resolve* resolving_ = nullptr;  // the host name lookup in progress, owned by its callback
  std::vector<Completion> outbox_;
  uv_timer_t deadline_timer_;
  uv_timer_t connect_timer_;
  uv_timer_t health_timer_;
  uv_timer_t reconnect_timer_;
  uv_timer_t close_timer_;
  uv_timer_t connect_retry_timer_;
  uint64_t generation_ = 0;  // bumped per connect attempt; stale DNS answers are ignored
  ErrorKind last_error_ = ErrorKind::kConnection;
  std::string last_message_;
  std::string last_errno_;
  std::vector<sockaddr_storage> addresses_;  // of the host name being connected
  size_t next_address_ = 0;
  uint64_t rng_state_;
  std::vector<char> read_buffer_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_CONNECTION_MANAGER_H_
