// ConnectionManager: the face of the Redis layer that the N-API layer sees. One Redis
// endpoint, one I/O thread, one connection (the node set is kept behind this class so
// Cluster/Sentinel can add more later).
//
// Threads:
// - The owner (the JS thread) calls Submit/SubmitMany, Close, StopAndJoin, Join and Address.
//   Submitting only appends to the I/O thread's inbox and wakes it (IoThread).
// - Everything else runs on the I/O thread's own uv_loop_t: the Endpoint (reconnect,
//   backoff, offline queue, deadlines, graceful close) over a Dialer (addresses, connect,
//   spare SYN, connect timeout) and a NodeConnection (pipelining, FIFO replies, health PING)
//   over a Transport (the socket). Completions reach the Sink in batches, one per turn of
//   the loop (Outbox).
//
// See endpoint.h for the connection states and the rules for failing, queueing and never
// re-sending a written command.
#ifndef NCM_REDIS_CONNECTION_MANAGER_H_
#define NCM_REDIS_CONNECTION_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "redis/config.h"
#include "redis/credentials.h"
#include "redis/io_thread.h"
#include "redis/request.h"

namespace ncm::redis {

// Receives completions. Called on the I/O thread; must not block for long.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Deliver(std::vector<Completion> batch) = 0;
  // The I/O thread has finished (after Close or StopAndJoin); nothing is delivered after.
  virtual void Closed() = 0;
  // Connect attempt `attempt` needs credentials (Config::credentials_provider): ask the
  // provider and answer with ConnectionManager::ProvideCredentials. Never wait for it here.
  virtual void RequestCredentials(uint64_t attempt) = 0;
};

class ConnectionManager : private IoThread::Listener {
 public:
  ConnectionManager(Config config, std::shared_ptr<Sink> sink);
  ~ConnectionManager() override;  // StopAndJoin()
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  // Owner thread, before the first Submit: no I/O thread; the manager's loop runs on the
  // owner's loop `host` (see IoThread::UseHostLoop and its hooks).
  void RunOnHostLoop(uv_loop_t* host, IoThread::HostHooks hooks) {
    io_.UseHostLoop(host, std::move(hooks));
  }
  // Owner thread. Whether handles put on the host loop are open or closing.
  bool HoldsHostHandles() const { return io_.HoldsHostHandles(); }

  // Owner thread. Starts the I/O thread on first use (lazy connect). Returns false when the
  // manager is closing or the thread could not start; the request is then not taken.
  bool Submit(std::unique_ptr<Request> request);
  // Owner thread. Submits a whole batch (one lock, one wake-up); on success `batch` is left
  // empty, on failure (closing) it is left untouched.
  bool SubmitMany(std::vector<std::unique_ptr<Request>>* batch);

  // Any thread (the owner, in the addon): it only appends to the I/O thread's inbox. The
  // credentials provider's answer to Sink::RequestCredentials. Returns
  // false when the manager is stopped (the answer is dropped, its password wiped); an answer
  // that comes after its attempt ended is dropped on the I/O thread.
  bool ProvideCredentials(CredentialsAnswer answer);

  // Owner thread. Graceful close: queued and in-flight commands finish, QUIT is sent, the
  // socket closes; at `timeout_ms` whatever is left is rejected and everything closes.
  // Sink::Closed() reports the end. Returns false when the thread never started (nothing
  // to close: Closed() is not called).
  bool Close(uint32_t timeout_ms);

  // Owner thread. Rejects everything, closes at once, joins the thread. Idempotent. Used by
  // finalizers and the environment cleanup hook: it never waits for the network.
  void StopAndJoin();

  // Owner thread. Joins a thread that already reported Closed().
  void Join();

  // Any thread: "host:port", "[v6]:port" or the socket path.
  std::string Address() const;

 private:
  class Loop;  // everything that lives on the I/O thread

  // IoThread::Listener (I/O thread)
  void OnLoopStart(uv_loop_t* loop) override;
  void OnWake(IoThread::Inbox inbox) override;
  void OnRunOutsideThread() override;
  void OnLoopStopped() override;
  void OnLoopClosed() override;

  const Config config_;
  const std::shared_ptr<Sink> sink_;
  std::unique_ptr<Loop> loop_;  // I/O thread only: built in OnLoopStart, gone in OnLoopStopped
  IoThread io_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_CONNECTION_MANAGER_H_
