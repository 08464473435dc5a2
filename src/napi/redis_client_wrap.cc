#include "napi/redis_client_wrap.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "napi/errors.h"
#include "napi/packed_batch.h"
#include "napi/redis_config.h"

namespace ncm::napi {

namespace {
// How the completions of one turn of a hosted manager's loop are cut up for JS (see
// DeliverHosted). Against one piece per turn, `bench/js/redis.js --baseline` measured 100 B
// GETs at 1.66x (16 callers) and 1.77x (128 callers); see docs/benchmarks.md#redis. In a
// trial before that, pieces of 8 at 128 callers were slower than pieces of 32 (a write for
// every 8 commands).
constexpr size_t kDeliveryPieces = 4;
constexpr size_t kMinDeliveryPiece = 8;
}  // namespace

struct RedisClientWrap::HostGuard {
  napi_async_cleanup_hook_handle hook = nullptr;
  RedisClientWrap* wrap = nullptr;  // cleared by the wrapper's destructor

  // The environment is going away while the manager's handles are on its loop: stop the
  // manager (its loop closes at once), then Released() removes the hook once its handles
  // on Node's loop are closed, and Node closes the loop.
  static void OnCleanup(napi_async_cleanup_hook_handle, void* arg) {
    auto* guard = static_cast<HostGuard*>(arg);
    if (guard->wrap != nullptr) guard->wrap->Shutdown();
  }

  void Released() {
    if (hook == nullptr) return;
    napi_remove_async_cleanup_hook(hook);
    hook = nullptr;
  }
};

Napi::Function RedisClientWrap::Define(Napi::Env env) {
  return DefineClass(env, "RedisClientWrap",
                     {
                         InstanceMethod<&RedisClientWrap::SubmitPacked>("submitPacked"),
                         InstanceMethod<&RedisClientWrap::Close>("close"),
                         InstanceMethod<&RedisClientWrap::Join>("join"),
                         InstanceMethod<&RedisClientWrap::Destroy>("destroy"),
                         InstanceMethod<&RedisClientWrap::Credentials>("credentials"),
                         InstanceMethod<&RedisClientWrap::CredentialsFailed>("credentialsFailed"),
                         InstanceMethod<&RedisClientWrap::Ref>("ref"),
                         InstanceMethod<&RedisClientWrap::Unref>("unref"),
                     });
}

RedisClientWrap::RedisClientWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<RedisClientWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "RedisClientWrap(config, onEvents): expected an object and a function", true);
    return;
  }
  Napi::Object config = info[0].As<Napi::Object>();
  on_events_ = Napi::Persistent(info[1].As<Napi::Function>());
  redis::Config core;
  if (!RedisConfigFromJs(config, &core)) return;
  core.reply_buffers = std::make_shared<redis::ReplyBufferPool>();
  Napi::Value io_thread = config.Get("ioThread");
  hosted_ = io_thread.IsBoolean() && !io_thread.As<Napi::Boolean>().Value();
  events_ = std::make_shared<RedisEvents>(MaxStringLengthFromJs(config, (size_t{1} << 29) - 24),
                                          core.reply_buffers);
  manager_ = std::make_unique<redis::ConnectionManager>(std::move(core), events_);
  if (hosted_) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      ThrowWithCode(env, "ERR_REDIS_CLOSED", "could not reach the event loop for ioThread: false");
      return;
    }
    napi_value name = Napi::String::New(env, "native-cache-manager:redis");
    if (napi_async_init(env, nullptr, name, &async_context_) != napi_ok) async_context_ = nullptr;
    host_guard_ = std::make_shared<HostGuard>();
    host_guard_->wrap = this;
    redis::IoThread::HostHooks hooks;
    hooks.before_run = [events = events_] { events->set_deferred(true); };
    // Runs only from the manager's handles on Node's loop, which this wrapper's destructor
    // closes (StopAndJoin) before it is gone.
    hooks.after_run = [this] { DeliverHosted(); };
    // The guard lives as long as the handles on Node's loop, which may outlive this wrapper.
    hooks.released = [guard = host_guard_] { guard->Released(); };
    manager_->RunOnHostLoop(loop, std::move(hooks));
  }
}

void RedisClientWrap::DeliverHosted() {
  events_->set_deferred(false);
  if (!events_->TakeDirect()) return;
  // The completions of one turn go to JS in up to kDeliveryPieces pieces of at least
  // kMinDeliveryPiece: when a piece's callback scope closes, the commands its callers issued
  // in reaction are written at once (see IoThread::Submit), so the server works on them
  // while later replies are still being turned into JS values, instead of waiting for the
  // whole turn. Completions made meanwhile (by a direct write) wait for the next turn
  // beyond those pieces, so a caller that reissues a failing command cannot hold the
  // thread here.
  const size_t piece =
      std::max(kMinDeliveryPiece, (events_->Pending() + kDeliveryPieces - 1) / kDeliveryPieces);
  napi_env env = env_;
  bool more = true;
  for (size_t round = 0; more && round < kDeliveryPieces; ++round) {
    napi_handle_scope scope = nullptr;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value callback = on_events_.Value();
    // A callback scope, as Node gives its own I/O callbacks: promises settled in there run
    // their continuations before control returns to the loop.
    napi_callback_scope callback_scope = nullptr;
    if (async_context_ != nullptr &&
        napi_open_callback_scope(env, callback, async_context_, &callback_scope) != napi_ok) {
      callback_scope = nullptr;
    }
    more = events_->Drain(env, callback, piece);
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      // Thrown by a listener: reported as uncaught, as from any other I/O callback.
      napi_value error = nullptr;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok)
        napi_fatal_exception(env, error);
    }
    if (callback_scope != nullptr) napi_close_callback_scope(env, callback_scope);
    napi_close_handle_scope(env, scope);
  }
  if (more) events_->NotifyIfLeft();
}

RedisClientWrap::~RedisClientWrap() {
  if (host_guard_) host_guard_->wrap = nullptr;
  Shutdown();
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
  if (hook_registered_) {
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
    hook_registered_ = false;
  }
}

void RedisClientWrap::CleanupHook(void* arg) {
  auto* self = static_cast<RedisClientWrap*>(arg);
  self->hook_registered_ = false;
  self->Shutdown();
}

void RedisClientWrap::Shutdown() {
  if (manager_) manager_->StopAndJoin();  // bounded: closes sockets without waiting on them
  ReleaseTsfn(napi_tsfn_abort);
}

void RedisClientWrap::ReleaseTsfn(napi_threadsafe_function_release_mode mode) {
  if (tsfn_ == nullptr) return;
  napi_release_threadsafe_function(tsfn_, mode);
  tsfn_ = nullptr;
}

bool RedisClientWrap::EnsureStarted(Napi::Env env) {
  if (tsfn_ != nullptr) return true;
  auto context = std::make_unique<std::shared_ptr<RedisEvents>>(events_);
  napi_value name = Napi::String::New(env, "native-cache-manager:redis");
  napi_status s = napi_create_threadsafe_function(env, on_events_.Value(), nullptr, name, 0, 1,
                                                  context.get(), RedisEvents::FinalizeContext,
                                                  context.get(), RedisEvents::CallJs, &tsfn_);
  if (s != napi_ok) {
    tsfn_ = nullptr;
    ThrowWithCode(env, "ERR_REDIS_CLOSED", "could not start the Redis client");
    return false;
  }
  context.release();  // owned by the thread-safe function; freed in FinalizeContext
  events_->set_tsfn(tsfn_);
  if (!referenced_) napi_unref_threadsafe_function(env, tsfn_);
  // Registered after the thread-safe function, so this hook runs before Node's own
  // cleanup of it (hooks run last-in, first-out).
  if (!hook_registered_) {
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hook_registered_ = true;
  }
  return true;
}

Napi::Value RedisClientWrap::SubmitPacked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::unique_ptr<redis::Request>> batch;
  if (!ReadPackedBatch(info, &batch)) return env.Undefined();
  if (!manager_) return Napi::Boolean::New(env, false);
  if (batch.empty()) return Napi::Boolean::New(env, true);
  if (!EnsureStarted(env)) return env.Undefined();
  const bool taken = manager_->SubmitMany(&batch);
  if (host_guard_ && host_guard_->hook == nullptr && manager_->HoldsHostHandles()) {
    // The first submit put the manager's handles on Node's loop.
    napi_add_async_cleanup_hook(env, HostGuard::OnCleanup, host_guard_.get(), &host_guard_->hook);
  }
  return Napi::Boolean::New(env, taken);
}

Napi::Value RedisClientWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t timeout =
      info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 5000;
  if (!manager_) return Napi::Boolean::New(env, false);
  bool started = manager_->Close(timeout);
  if (started && tsfn_ != nullptr) {
    // Keep the process alive until the close finishes (it is bounded by `timeout`).
    napi_ref_threadsafe_function(env, tsfn_);
  }
  return Napi::Boolean::New(env, started);
}

Napi::Value RedisClientWrap::Join(const Napi::CallbackInfo& info) {
  if (manager_) manager_->Join();
  ReleaseTsfn(napi_tsfn_release);
  return info.Env().Undefined();
}

Napi::Value RedisClientWrap::Destroy(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value RedisClientWrap::Credentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "credentials(attempt, username, password): expected a number, a string and a "
                  "Uint8Array",
                  true);
    return env.Undefined();
  }
  redis::CredentialsAnswer answer;
  answer.attempt = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
  answer.ok = true;
  answer.credentials.username = info[1].As<Napi::String>().Utf8Value();
  Napi::Uint8Array password = info[2].As<Napi::Uint8Array>();
  // Sized once: a string that grew would leave copies of the password in freed blocks.
  answer.credentials.password.assign(reinterpret_cast<const char*>(password.Data()),
                                     password.ByteLength());
  if (!manager_) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, manager_->ProvideCredentials(std::move(answer)));
}

Napi::Value RedisClientWrap::CredentialsFailed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "credentialsFailed(attempt, message): expected a number and a string", true);
    return env.Undefined();
  }
  redis::CredentialsAnswer answer;
  answer.attempt = static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue());
  answer.error = info[1].As<Napi::String>().Utf8Value();
  if (!manager_) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, manager_->ProvideCredentials(std::move(answer)));
}

Napi::Value RedisClientWrap::Ref(const Napi::CallbackInfo& info) {
  referenced_ = true;
  if (tsfn_ != nullptr) napi_ref_threadsafe_function(info.Env(), tsfn_);
  return info.Env().Undefined();
}

Napi::Value RedisClientWrap::Unref(const Napi::CallbackInfo& info) {
  referenced_ = false;
  if (tsfn_ != nullptr) napi_unref_threadsafe_function(info.Env(), tsfn_);
  return info.Env().Undefined();
}

}  // namespace ncm::napi
