// JS face of ncm::redis::ConnectionManager, and its lifecycle.
//
// new RedisClientWrap(config, onEvents): `config` was validated in lib/redis-options.js
// (read by redis_config.h); `onEvents` receives the completions (see redis_events.h).
//
// All methods run on the JS thread. The wrapper registers an environment cleanup hook, so a
// terminating worker stops the I/O thread without calling into the dying environment. With
// `ioThread: false` in the config there is no I/O thread: the manager's loop runs on the
// environment's own libuv loop (ConnectionManager::RunOnHostLoop).
#ifndef NCM_NAPI_REDIS_CLIENT_WRAP_H_
#define NCM_NAPI_REDIS_CLIENT_WRAP_H_

#include <napi.h>

#include <memory>

#include "napi/redis_events.h"
#include "redis/connection_manager.h"

namespace ncm::napi {

class RedisClientWrap : public Napi::ObjectWrap<RedisClientWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit RedisClientWrap(const Napi::CallbackInfo& info);
  ~RedisClientWrap() override;

 private:
  // submitPacked(text, plan, planLength, others) -> boolean (false when closed): the
  // commands a JS tick issued, packed by lib/redis-batch.js (read by packed_batch.h); one
  // lock and one wake-up of the I/O thread for all of them.
  Napi::Value SubmitPacked(const Napi::CallbackInfo& info);
  // close(timeoutMs) -> boolean (false when the I/O thread never started: no `null` event)
  Napi::Value Close(const Napi::CallbackInfo& info);
  // join(): after the `null` event
  Napi::Value Join(const Napi::CallbackInfo& info);
  // destroy(): reject everything, close at once, join
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  // credentials(attempt, username, password) -> boolean (false when the manager is stopped):
  // the credentials provider's answer to a kind-3 event (redis_events.h). `username` is a
  // string ('' for none), `password` a Uint8Array whose bytes are copied (the caller wipes
  // its own copy).
  Napi::Value Credentials(const Napi::CallbackInfo& info);
  // credentialsFailed(attempt, message) -> boolean: the provider threw, rejected or gave an
  // unusable value; the attempt fails with `message` (never a secret).
  Napi::Value CredentialsFailed(const Napi::CallbackInfo& info);
  // ref()/unref(): whether outstanding commands keep the event loop alive
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);

  // Keeps Node's loop open (an async cleanup hook) while handles a hosted manager put on it
  // are open, and stops the manager if the environment goes first.
  struct HostGuard;

  bool EnsureStarted(Napi::Env env);
  // Hosted: after a run of the manager's loop (a callback of Node's loop, outside any JS),
  // delivers what it completed straight to `onEvents`, in a callback scope of its own.
  void DeliverHosted();
  void Shutdown();
  void ReleaseTsfn(napi_threadsafe_function_release_mode mode);
  static void CleanupHook(void* arg);

  napi_env env_;
  std::shared_ptr<RedisEvents> events_;
  std::unique_ptr<redis::ConnectionManager> manager_;
  Napi::FunctionReference on_events_;
  napi_threadsafe_function tsfn_ = nullptr;
  bool referenced_ = false;
  bool hook_registered_ = false;
  bool hosted_ = false;  // config `ioThread: false`: the manager runs on Node's own loop
  std::shared_ptr<HostGuard> host_guard_;
  napi_async_context async_context_ = nullptr;  // hosted: the scope of direct deliveries
};

}  // namespace ncm::napi

#endif  // NCM_NAPI_REDIS_CLIENT_WRAP_H_
