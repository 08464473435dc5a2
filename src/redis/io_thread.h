// IoThread: the connection manager's thread, its uv_loop_t, and the inbox through which the
// owner (the JS thread) hands it work. The only part of the Redis layer the owner touches:
// Submit appends to a mutex-guarded queue and wakes the loop with uv_async_send; the loop
// drains the whole queue per wake-up, so everything submitted in between travels together.
//
// The thread starts with the first Submit (lazy: no thread, no socket before the first
// command). Its Listener builds what runs on the loop when it starts, gets each wake-up's
// inbox, and tears down when the loop has nothing left to do.
//
// Hosted (UseHostLoop): no thread. The manager's loop is driven from the owner's own loop
// (Node's): the manager's backend fd is watched there by a poll handle and its next timeout
// mirrored by a host timer, and each time either fires the manager's loop runs once without
// blocking. Everything then happens on the owner's thread, between its own callbacks: no
// thread hop per command or per reply. "I/O thread" below then means the owner's thread
// inside such a run; the Listener sees the same calls in the same order.
#ifndef NCM_REDIS_IO_THREAD_H_
#define NCM_REDIS_IO_THREAD_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "redis/credentials.h"
#include "redis/request.h"

namespace ncm::redis {

class IoThread {
 public:
  // What the owner sent since the last wake-up.
  struct Inbox {
    std::vector<std::unique_ptr<Request>> requests;
    std::vector<CredentialsAnswer> credentials;  // the credentials provider's answers
    bool stop = false;                           // StopAndJoin: reject everything, close at once
    bool close = false;                          // RequestClose (reported once)
    uint32_t close_timeout_ms = 0;
  };

  // Every call is on the I/O thread, in this order: OnLoopStart, OnWake (any number of
  // times), OnLoopStopped, OnLoopClosed.
  class Listener {
   public:
    virtual ~Listener() = default;
    // Before the first wake-up: build whatever runs on `loop`.
    virtual void OnLoopStart(uv_loop_t* loop) = 0;
    virtual void OnWake(Inbox inbox) = 0;
    // Hosted: after each non-blocking run of the loop and after OnWake was called straight
    // from the owner's Submit. What they completed must be handed on now: no check phase
    // follows either (and in a run, timers fire after the check phase).
    virtual void OnRunOutsideThread() {}
    // The loop ran out of active handles (after CloseInbox): destroy what OnLoopStart built.
    // Handles closed here still get their close callbacks.
    virtual void OnLoopStopped() = 0;
    // The loop is closed and the thread about to end: the last call.
    virtual void OnLoopClosed() = 0;
  };

  // `listener` must outlive the thread (the owner joins it before destroying either).
  explicit IoThread(Listener* listener);
  ~IoThread();  // StopAndJoin()
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  // What the owner hears of a hosted loop, on its own thread.
  struct HostHooks {
    // Around each run of the manager's loop from a callback of the host loop (not from
    // StopAndJoin). `after_run` may call into the owner's code (JS); nothing of this object
    // is touched after it returns, so it may even stop it.
    std::function<void()> before_run;
    std::function<void()> after_run;
    // Once the handles on the host loop are closed; may be after this object is gone.
    std::function<void()> released;
  };

  // Owner thread, before the first Submit. Runs hosted on `host` (see above). The two handles
  // this opens on `host` are unreferenced (they never keep it alive).
  void UseHostLoop(uv_loop_t* host, HostHooks hooks);
  // Owner thread. Whether handles opened on the host loop are still open or closing.
  bool HoldsHostHandles() const { return pump_ != nullptr; }

  // Owner thread. Starts the thread on first use. Returns false when closing or closed, or
  // when the thread could not start; the batch is then left untouched. On success `batch`
  // is left empty.
  bool Submit(std::vector<std::unique_ptr<Request>>* batch);
  // Any thread (it only takes the inbox's mutex). Hands the credentials provider's answer to the
  // loop (OnWake sees it in `credentials`). Never starts the thread; returns false (the answer is
  // dropped and its password wiped) when the thread is not running or is stopping.
  bool Answer(CredentialsAnswer answer);
  // Owner thread. Asks for a graceful close (the listener's OnWake sees `close`); no more
  // Submit. Returns false when the thread never started (nothing to close).
  bool RequestClose(uint32_t timeout_ms);
  // Owner thread. Asks for an immediate stop (OnWake sees `stop`) and joins. Idempotent.
  void StopAndJoin();
  // Owner thread. Joins a thread whose listener has reported the end (OnLoopClosed).
  void Join();

  // I/O thread. No more wake-ups: closes the inbox (Submit fails from now on) and returns
  // the requests that arrived after the last wake-up, for the caller to reject.
  std::vector<std::unique_ptr<Request>> CloseInbox();

 private:
  void Run();
  // Hosted: the thread's part, run on the owner's thread.
  void StartHosted();
  void PumpHosted();
  void ArmHostTimer();
  void FinishHosted();
  void WakeUp();  // drains the inbox into the listener (the wake handle's callback)

 public:
  struct HostPump;  // the handles on the host loop; outlive this object until closed
  // A callback of the host loop: one run of the manager's loop, if it still has an owner.
  static void PumpFromHost(HostPump* pump);

 private:
  Listener* const listener_;
  uv_loop_t* host_ = nullptr;
  HostHooks host_hooks_;
  bool pumping_ = false;
  HostPump* pump_ = nullptr;  // owner thread
  bool hosted_finished_ = false;

  std::mutex mutex_;  // guards everything below but the thread and the loop
  std::vector<std::unique_ptr<Request>> submitted_;
  std::vector<CredentialsAnswer> answers_;
  bool started_ = false;
  bool closing_ = false;  // no more Submit
  bool close_requested_ = false;
  uint32_t close_timeout_ms_ = 0;
  bool stop_requested_ = false;
  bool inbox_closed_ = false;  // set by the I/O thread before it closes wake_
  bool joined_ = false;

  std::thread thread_;
  uv_loop_t loop_;
  uv_async_t wake_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_IO_THREAD_H_
