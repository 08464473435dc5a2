#include "napi/redis_client_wrap.h"

#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "napi/addon_data.h"
#include "napi/errors.h"
#include "redis/command_encoder.h"

namespace ncm::napi {

// Completions waiting for the JS thread. Shared by the I/O thread (as the manager's Sink)
// and the thread-safe function (as its context), so it outlives whichever ends first.
struct RedisInbox : public redis::Sink {
  std::mutex mutex;
  std::vector<redis::Completion> items;
  bool closed = false;
  bool notified = false;
  napi_threadsafe_function tsfn = nullptr;
  // Longest JS string (buffer.constants.MAX_STRING_LENGTH, passed in by lib/redis-client.js).
  // Longer bulk strings are refused before V8 is asked: V8 would throw from inside the
  // conversion, with no JS frame to catch it. Set once before the I/O thread starts.
  size_t max_string_length = (size_t{1} << 29) - 24;

  void Notify() {
    // One call per batch: later completions join the batch until the JS thread drains it.
    if (!notified) {
      notified = true;
      napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_nonblocking);
    }
  }
  void Deliver(std::vector<redis::Completion> batch) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (items.empty()) {
      items = std::move(batch);
    } else {
      for (auto& c : batch) items.push_back(std::move(c));
    }
    Notify();
  }
  void Closed() override {
    std::lock_guard<std::mutex> lock(mutex);
    closed = true;
    Notify();
  }
};

namespace {

// The conversion below uses the C API with every status checked: it runs from the
// thread-safe function's callback, which may fire while a worker is being terminated, and
// then each call may fail. A reply that cannot be converted fails its own caller only
// (see CallJs); a failure to build the batch itself drops the batch quietly.

// Limits of one conversion: strings longer than `max_string` characters are refused.
struct Convert {
  size_t max_string;
  bool too_long = false;  // set when a string over the limit was met
};

napi_value MakeString(napi_env env, const std::string& text) {
  napi_value out = nullptr;
  if (napi_create_string_utf8(env, text.data(), text.size(), &out) != napi_ok) return nullptr;
  return out;
}

// UTF-8 never decodes to more UTF-16 units than it has bytes, so a text within the limit
// in bytes always fits; one over it is refused (read it with { buffers: true }).
napi_value MakeReplyString(napi_env env, const std::string& text, Convert* convert) {
  if (text.size() > convert->max_string) {
    convert->too_long = true;
    return nullptr;
  }
  return MakeString(env, text);
}

napi_value MakeNumber(napi_env env, double value) {
  napi_value out = nullptr;
  if (napi_create_double(env, value, &out) != napi_ok) return nullptr;
  return out;
}

napi_value ReplyToJs(napi_env env, const redis::Reply& reply, bool buffers, Convert* convert) {
  using redis::ReplyType;
  napi_value out = nullptr;
  switch (reply.type) {
    case ReplyType::kNil:
      if (napi_get_null(env, &out) != napi_ok) return nullptr;
      return out;
    case ReplyType::kStatus:
      return MakeReplyString(env, reply.str, convert);
    case ReplyType::kInteger:
      return MakeNumber(env, static_cast<double>(reply.integer));
    case ReplyType::kString:
      if (buffers) {
        void* data = nullptr;
        if (napi_create_buffer_copy(env, reply.str.size(), reply.str.data(), &data, &out) !=
            napi_ok) {
          return nullptr;
        }
        return out;
      }
      return MakeReplyString(env, reply.str, convert);
    case ReplyType::kError: {
      // Only nested errors get here (e.g. inside EXEC results); top-level ones are kind 2.
      napi_value message = MakeReplyString(env, reply.str, convert);
      napi_value code = MakeString(env, "ERR_REDIS_SERVER");
      if (message == nullptr || code == nullptr) return nullptr;
      if (napi_create_error(env, code, message, &out) != napi_ok) return nullptr;
      return out;
    }
    case ReplyType::kArray: {
      if (napi_create_array_with_length(env, reply.elements.size(), &out) != napi_ok) {
        return nullptr;
      }
      for (size_t i = 0; i < reply.elements.size(); ++i) {
        napi_value item = ReplyToJs(env, *reply.elements[i], buffers, convert);
        if (item == nullptr ||
            napi_set_element(env, out, static_cast<uint32_t>(i), item) != napi_ok) {
          return nullptr;
        }
      }
      return out;
    }
  }
  return nullptr;
}

constexpr uint8_t kFlagBuffers = 1;

// [errorKind, message, errno]: the value of a kind-1 event.
napi_value ErrorDetail(napi_env env, redis::ErrorKind error, const std::string& message,
                       const std::string& error_errno) {
  napi_value detail = nullptr;
  if (napi_create_array_with_length(env, 3, &detail) != napi_ok) return nullptr;
  napi_value parts[3] = {MakeNumber(env, static_cast<int>(error)), MakeString(env, message),
                         MakeString(env, error_errno)};
  for (uint32_t i = 0; i < 3; ++i) {
    if (parts[i] == nullptr || napi_set_element(env, detail, i, parts[i]) != napi_ok) {
      return nullptr;
    }
  }
  return detail;
}

uint64_t ReplyBytes(const redis::Reply& reply) {
  uint64_t total = reply.str.size();
  for (const auto& element : reply.elements) total += ReplyBytes(*element);
  return total;
}

napi_value CompletionValue(napi_env env, redis::Completion& c, size_t max_string, double* kind) {
  if (c.error != redis::ErrorKind::kNone) {
    *kind = 1;
    return ErrorDetail(env, c.error, c.message, c.error_errno);
  }
  Convert convert{max_string};
  napi_value out = nullptr;
  if (c.reply->type == redis::ReplyType::kError) {
    *kind = 2;
    out = MakeReplyString(env, c.reply->str, &convert);
  } else {
    *kind = 0;
    out = ReplyToJs(env, *c.reply, (c.flags & kFlagBuffers) != 0, &convert);
  }
  if (out != nullptr) return out;
  // This reply alone could not become a JS value: its caller gets a typed error and the
  // rest of the batch is delivered as usual. Nothing is left pending in the environment.
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored = nullptr;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  *kind = 1;
  const std::string bytes = std::to_string(ReplyBytes(*c.reply));
  return ErrorDetail(
      env, redis::ErrorKind::kReplyTooLarge,
      convert.too_long
          ? "the reply holds a string longer than the longest JavaScript string (" +
                std::to_string(max_string) + " characters; reply " + bytes +
                " bytes): read it with { buffers: true }"
          : "the reply (" + bytes + " bytes) could not be converted to a JavaScript value",
      "");
}

// Runs on the JS thread for each batch. `env` is null while the environment is torn down:
// then nothing may call into JS.
void CallJs(napi_env env, napi_value js_callback, void* context, void*) {
  // While the function is being torn down Node calls this with a null env, possibly after
  // the context is gone: touch nothing (queued completions are freed with the inbox).
  if (env == nullptr || js_callback == nullptr || context == nullptr) return;
  auto* inbox = static_cast<std::shared_ptr<RedisInbox>*>(context)->get();
  std::vector<redis::Completion> items;
  bool closed;
  {
    std::lock_guard<std::mutex> lock(inbox->mutex);
    items.swap(inbox->items);
    closed = inbox->closed;
    inbox->closed = false;
    inbox->notified = false;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  bool ok = true;
  if (!items.empty()) {
    napi_value list = nullptr;
    ok = napi_create_array_with_length(env, items.size() * 3, &list) == napi_ok;
    uint32_t at = 0;
    for (redis::Completion& c : items) {
      if (!ok) break;
      double kind = 0;
      napi_value value = CompletionValue(env, c, inbox->max_string_length, &kind);
      napi_value id = MakeNumber(env, static_cast<double>(c.id));
      napi_value kind_value = MakeNumber(env, kind);
      ok = value != nullptr && id != nullptr && kind_value != nullptr &&
           napi_set_element(env, list, at++, id) == napi_ok &&
           napi_set_element(env, list, at++, kind_value) == napi_ok &&
           napi_set_element(env, list, at++, value) == napi_ok;
      c.reply.reset();  // free large replies before the JS callback runs
    }
    // An exception thrown by the callback stays pending and Node reports it as uncaught.
    if (ok) ok = napi_call_function(env, undefined, js_callback, 1, &list, nullptr) == napi_ok;
  }
  if (ok && closed) {
    napi_value null_value = nullptr;
    napi_get_null(env, &null_value);
    napi_call_function(env, undefined, js_callback, 1, &null_value, nullptr);
  }
  napi_close_handle_scope(env, scope);
}

void FinalizeTsfn(napi_env, void* data, void*) {
  // The thread-safe function owns its context (see EnsureStarted): reclaim it.
  std::unique_ptr<std::shared_ptr<RedisInbox>> owned(
      static_cast<std::shared_ptr<RedisInbox>*>(data));
}

uint32_t GetU32(Napi::Object config, const char* name, uint32_t fallback) {
  Napi::Value v = config.Get(name);
  if (!v.IsNumber()) return fallback;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0)) return fallback;
  if (d > 4294967295.0) return 4294967295u;
  return static_cast<uint32_t>(d);
}

std::string GetString(Napi::Object config, const char* name) {
  Napi::Value v = config.Get(name);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

}  // namespace

Napi::Function RedisClientWrap::Define(Napi::Env env) {
  return DefineClass(env, "RedisClientWrap",
                     {
                         InstanceMethod<&RedisClientWrap::SubmitMany>("submitMany"),
                         InstanceMethod<&RedisClientWrap::Close>("close"),
                         InstanceMethod<&RedisClientWrap::Join>("join"),
                         InstanceMethod<&RedisClientWrap::Destroy>("destroy"),
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
  Napi::Object c = info[0].As<Napi::Object>();
  config_.host = GetString(c, "host");
  config_.port = static_cast<uint16_t>(GetU32(c, "port", 6379));
  config_.path = GetString(c, "path");
  config_.username = GetString(c, "username");
  config_.password = GetString(c, "password");
  config_.db = GetU32(c, "db", 0);
  config_.client_name = GetString(c, "clientName");
  config_.connect_timeout_ms = GetU32(c, "connectTimeout", config_.connect_timeout_ms);
  config_.command_timeout_ms = GetU32(c, "commandTimeout", config_.command_timeout_ms);
  config_.offline_queue = GetU32(c, "offlineQueue", config_.offline_queue);
  config_.health_interval_ms = GetU32(c, "healthCheckInterval", config_.health_interval_ms);
  config_.keepalive_ms = GetU32(c, "keepAlive", config_.keepalive_ms);
  config_.reconnect_base_ms = GetU32(c, "reconnectBase", config_.reconnect_base_ms);
  config_.reconnect_max_ms = GetU32(c, "reconnectMax", config_.reconnect_max_ms);
  config_.limits.max_depth = GetU32(c, "maxReplyDepth", config_.limits.max_depth);
  config_.limits.max_elements = GetU32(c, "maxReplyElements", 1'000'000);
  Napi::Value bytes = c.Get("maxReplyBytes");
  if (bytes.IsNumber() && bytes.As<Napi::Number>().DoubleValue() >= 1) {
    config_.limits.max_reply_bytes = static_cast<uint64_t>(bytes.As<Napi::Number>().DoubleValue());
  }
  if (config_.host.empty()) config_.host = "127.0.0.1";
  on_events_ = Napi::Persistent(info[1].As<Napi::Function>());
  inbox_ = std::make_shared<RedisInbox>();
  Napi::Value max_string = c.Get("maxStringLength");
  if (max_string.IsNumber() && max_string.As<Napi::Number>().DoubleValue() >= 1) {
    inbox_->max_string_length =
        static_cast<size_t>(max_string.As<Napi::Number>().DoubleValue());
  }
  manager_ = std::make_unique<redis::ConnectionManager>(config_, inbox_);
}

RedisClientWrap::~RedisClientWrap() {
  Shutdown();
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
  auto context = std::make_unique<std::shared_ptr<RedisInbox>>(inbox_);
  napi_value name = Napi::String::New(env, "native-cache-manager:redis");
  napi_status s =
      napi_create_threadsafe_function(env, on_events_.Value(), nullptr, name, 0, 1, context.get(),
                                      FinalizeTsfn, context.get(), CallJs, &tsfn_);
  if (s != napi_ok) {
    tsfn_ = nullptr;
    ThrowWithCode(env, "ERR_REDIS_CLOSED", "could not start the Redis client");
    return false;
  }
  context.release();  // owned by the thread-safe function; freed in FinalizeTsfn
  inbox_->tsfn = tsfn_;
  if (!referenced_) napi_unref_threadsafe_function(env, tsfn_);
  // Registered after the thread-safe function, so this hook runs before Node's own
  // cleanup of it (hooks run last-in, first-out).
  if (!hook_registered_) {
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hook_registered_ = true;
  }
  return true;
}

namespace {

// Encodes one command as a RESP request. Returns nullptr with a pending JS exception when an
// argument is neither a string nor a Uint8Array.
std::unique_ptr<redis::Request> EncodeRequest(napi_env env, napi_value args_value) {
  Napi::Array args(env, args_value);
  const uint32_t count = args.Length();
  if (count == 0) {
    ThrowWithCode(Napi::Env(env), "ERR_INVALID_ARG_VALUE",
                  "a Redis command needs at least one argument");
    return nullptr;
  }
  // Two passes: sizes first, so the request is built in one allocation and strings are
  // encoded straight into it.
  std::vector<napi_value> values(count);
  std::vector<size_t> sizes(count);
  std::vector<const void*> bytes(count, nullptr);
  size_t payload = 0;
  for (uint32_t i = 0; i < count; ++i) {
    napi_value v = nullptr;
    if (napi_get_element(env, args_value, i, &v) != napi_ok) return nullptr;
    values[i] = v;
    napi_valuetype type = napi_undefined;
    if (napi_typeof(env, v, &type) != napi_ok) return nullptr;
    bool is_typed = false;
    if (type == napi_string) {
      if (napi_get_value_string_utf8(env, v, nullptr, 0, &sizes[i]) != napi_ok) return nullptr;
    } else if (napi_is_typedarray(env, v, &is_typed) == napi_ok && is_typed) {
      napi_typedarray_type ta = napi_int8_array;
      size_t length = 0;
      void* data = nullptr;
      napi_value ab = nullptr;
      size_t offset = 0;
      if (napi_get_typedarray_info(env, v, &ta, &length, &data, &ab, &offset) != napi_ok ||
          ta != napi_uint8_array) {
        is_typed = false;
      }
      sizes[i] = length;
      bytes[i] = data;
    }
    if (type != napi_string && !is_typed) {
      ThrowWithCode(Napi::Env(env), "ERR_INVALID_ARG_TYPE",
                    "command arguments must be strings or Buffers/Uint8Arrays", true);
      return nullptr;
    }
    payload += sizes[i];
  }
  auto request = std::make_unique<redis::Request>();
  redis::CommandEncoder encoder(&request->bytes, count, payload);
  for (uint32_t i = 0; i < count; ++i) {
    char* dst = encoder.Next(sizes[i]);
    if (bytes[i] == nullptr) {
      size_t copied = 0;
      // napi writes a NUL after the text: the encoder leaves room for it.
      if (napi_get_value_string_utf8(env, values[i], dst, sizes[i] + 1, &copied) != napi_ok ||
          copied != sizes[i]) {
        ThrowWithCode(Napi::Env(env), "ERR_INVALID_ARG_VALUE",
                      "command argument " + std::to_string(i) + " could not be read");
        return nullptr;
      }
    } else if (sizes[i] > 0) {
      std::memcpy(dst, bytes[i], sizes[i]);
    }
  }
  encoder.Finish();
  return request;
}

uint32_t ToU32(napi_env env, napi_value v) {
  uint32_t out = 0;
  napi_get_value_uint32(env, v, &out);
  return out;
}

}  // namespace

Napi::Value RedisClientWrap::SubmitMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE", "submitMany(list): expected an array", true);
    return env.Undefined();
  }
  if (!manager_) return Napi::Boolean::New(env, false);
  Napi::Array list = info[0].As<Napi::Array>();
  const uint32_t length = list.Length();
  std::vector<std::unique_ptr<redis::Request>> batch;
  batch.reserve(length / 4);
  for (uint32_t i = 0; i + 3 < length; i += 4) {
    napi_value id = nullptr;
    napi_value args = nullptr;
    napi_value flags = nullptr;
    napi_value timeout = nullptr;
    if (napi_get_element(env, list, i, &id) != napi_ok ||
        napi_get_element(env, list, i + 1, &args) != napi_ok ||
        napi_get_element(env, list, i + 2, &flags) != napi_ok ||
        napi_get_element(env, list, i + 3, &timeout) != napi_ok) {
      return env.Undefined();
    }
    bool is_array = false;
    napi_is_array(env, args, &is_array);
    if (!is_array) {
      ThrowWithCode(env, "ERR_INVALID_ARG_TYPE", "submitMany: every command must be an array",
                    true);
      return env.Undefined();
    }
    std::unique_ptr<redis::Request> request = EncodeRequest(env, args);
    if (!request) return env.Undefined();
    double id_number = 0;
    napi_get_value_double(env, id, &id_number);
    request->id = static_cast<uint64_t>(id_number);
    request->flags = ToU32(env, flags) & 0xff;
    request->timeout_ms = ToU32(env, timeout);
    batch.push_back(std::move(request));
  }
  if (!EnsureStarted(env)) return env.Undefined();
  return Napi::Boolean::New(env, manager_->SubmitMany(&batch));
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
