#include "napi/redis_client_wrap.h"

#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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
      // Only nested errors get here (an error inside an array, e.g. one a script returned);
      // a top-level error reply is kind 2 (see CompletionValue).
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
    // (heads, values): heads is a Float64Array of [id, kind] pairs, values the matching
    // replies or error descriptions: one element store per reply instead of three.
    napi_value args[2] = {nullptr, nullptr};
    void* head_data = nullptr;
    napi_value buffer = nullptr;
    ok = napi_create_arraybuffer(env, items.size() * 2 * sizeof(double), &head_data, &buffer) ==
             napi_ok &&
         napi_create_typedarray(env, napi_float64_array, items.size() * 2, buffer, 0, &args[0]) ==
             napi_ok &&
         napi_create_array_with_length(env, items.size(), &args[1]) == napi_ok;
    double* heads = static_cast<double*>(head_data);
    uint32_t at = 0;
    for (redis::Completion& c : items) {
      if (!ok) break;
      double kind = 0;
      napi_value value = CompletionValue(env, c, inbox->max_string_length, &kind);
      ok = value != nullptr && napi_set_element(env, args[1], at, value) == napi_ok;
      heads[2 * at] = static_cast<double>(c.id);
      heads[2 * at + 1] = kind;
      ++at;
      c.reply.reset();  // free large replies before the JS callback runs
    }
    // An exception thrown by the callback stays pending and Node reports it as uncaught.
    if (ok) ok = napi_call_function(env, undefined, js_callback, 2, args, nullptr) == napi_ok;
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
                         InstanceMethod<&RedisClientWrap::SubmitPacked>("submitPacked"),
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
    inbox_->max_string_length = static_cast<size_t>(max_string.As<Napi::Number>().DoubleValue());
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

// submitPacked(text, plan, planLength, others): the commands issued in one tick, packed by
// lib/redis-batch.js so that this crossing costs a few N-API calls per batch rather than
// several per argument. `plan` (a Float64Array) holds, per command, its id, flags, timeout
// and argument count, then one entry per argument: n >= 0 means the next n UTF-16 code
// units of `text` (all short string arguments, concatenated), and n < 0 means `others[-1 - n]`
// (a long string or a Uint8Array). Everything is checked before anything is sent: a plan
// that does not add up throws and submits nothing.
Napi::Value RedisClientWrap::SubmitPacked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi_typedarray_type plan_type = napi_int8_array;
  size_t plan_capacity = 0;
  void* plan_data = nullptr;
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
      !info[3].IsArray() ||
      napi_get_typedarray_info(env, info[1], &plan_type, &plan_capacity, &plan_data, nullptr,
                               nullptr) != napi_ok ||
      plan_type != napi_float64_array) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "submitPacked(text, plan, planLength, others): expected a string, a "
                  "Float64Array, a number and an array",
                  true);
    return env.Undefined();
  }
  if (!manager_) return Napi::Boolean::New(env, false);
  const double* plan = static_cast<const double*>(plan_data);
  const double plan_length_value = info[2].As<Napi::Number>().DoubleValue();
  if (!(plan_length_value >= 0 && plan_length_value <= static_cast<double>(plan_capacity))) {
    ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", "submitPacked: planLength is out of range", true);
    return env.Undefined();
  }
  const size_t plan_length = static_cast<size_t>(plan_length_value);
  size_t text_length = 0;
  if (napi_get_value_string_utf16(env, info[0], nullptr, 0, &text_length) != napi_ok) {
    return env.Undefined();
  }
  std::u16string text(text_length + 1, u'\0');
  size_t copied = 0;
  if (napi_get_value_string_utf16(env, info[0], text.data(), text_length + 1, &copied) != napi_ok ||
      copied != text_length) {
    return env.Undefined();
  }
  napi_value others = info[3];
  uint32_t others_count = 0;
  napi_get_array_length(env, others, &others_count);

  auto bad_plan = [&](const char* what) {
    ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", std::string("submitPacked: ") + what, true);
    return env.Undefined();
  };
  // One argument of the command being encoded.
  struct Piece {
    bool packed = false;  // in `text` ...
    const char16_t* units = nullptr;
    size_t unit_count = 0;
    napi_value other = nullptr;   // ... or a value from `others`:
    const void* bytes = nullptr;  // a Uint8Array's bytes, or null for a string
    size_t size = 0;              // UTF-8 or byte size
  };
  std::vector<Piece> pieces;
  std::vector<std::unique_ptr<redis::Request>> batch;
  size_t at = 0;
  size_t text_at = 0;
  while (at < plan_length) {
    if (plan_length - at < 4) return bad_plan("a command header is cut short");
    const double id = plan[at];
    const double flags = plan[at + 1];
    const double timeout = plan[at + 2];
    const double argc = plan[at + 3];
    at += 4;
    if (!(argc >= 1 && argc <= static_cast<double>(plan_length - at)) ||
        !(id >= 0 && id <= 9007199254740991.0) || !(flags >= 0 && flags <= 255) ||
        !(timeout >= 0 && timeout <= 4294967295.0)) {
      return bad_plan("a command header is out of range");
    }
    const size_t count = static_cast<size_t>(argc);
    pieces.assign(count, Piece{});
    size_t payload = 0;
    for (size_t i = 0; i < count; ++i) {
      const double entry = plan[at + i];
      Piece& piece = pieces[i];
      if (entry >= 0) {
        if (!(entry <= static_cast<double>(text_length - text_at))) {
          return bad_plan("an argument runs past the packed text");
        }
        piece.packed = true;
        piece.units = text.data() + text_at;
        piece.unit_count = static_cast<size_t>(entry);
        text_at += piece.unit_count;
        piece.size = redis::Utf8SizeOfUtf16(piece.units, piece.unit_count);
      } else {
        const double index = -1 - entry;
        if (!(index >= 0 && index < static_cast<double>(others_count))) {
          return bad_plan("an argument refers past the list of long arguments");
        }
        if (napi_get_element(env, others, static_cast<uint32_t>(index), &piece.other) != napi_ok) {
          return env.Undefined();
        }
        napi_valuetype type = napi_undefined;
        bool is_typed = false;
        napi_typedarray_type ta = napi_int8_array;
        void* data = nullptr;
        if (napi_typeof(env, piece.other, &type) == napi_ok && type == napi_string) {
          if (napi_get_value_string_utf8(env, piece.other, nullptr, 0, &piece.size) != napi_ok) {
            return env.Undefined();
          }
        } else if (napi_is_typedarray(env, piece.other, &is_typed) == napi_ok && is_typed &&
                   napi_get_typedarray_info(env, piece.other, &ta, &piece.size, &data, nullptr,
                                            nullptr) == napi_ok &&
                   ta == napi_uint8_array) {
          piece.bytes = data;
        } else {
          ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                        "command arguments must be strings or Buffers/Uint8Arrays", true);
          return env.Undefined();
        }
      }
      payload += piece.size;
    }
    at += count;
    auto request = std::make_unique<redis::Request>();
    redis::CommandEncoder encoder(&request->bytes, count, payload);
    for (const Piece& piece : pieces) {
      char* dst = encoder.Next(piece.size);
      if (piece.packed) {
        redis::WriteUtf16AsUtf8(piece.units, piece.unit_count, dst);
      } else if (piece.bytes != nullptr) {
        std::memcpy(dst, piece.bytes, piece.size);
      } else if (piece.size > 0) {
        size_t written = 0;
        // napi writes a NUL after the text: the encoder leaves room for it.
        if (napi_get_value_string_utf8(env, piece.other, dst, piece.size + 1, &written) !=
                napi_ok ||
            written != piece.size) {
          ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", "a command argument could not be read");
          return env.Undefined();
        }
      }
    }
    encoder.Finish();
    request->id = static_cast<uint64_t>(id);
    request->flags = static_cast<uint8_t>(flags);
    request->timeout_ms = static_cast<uint32_t>(timeout);
    batch.push_back(std::move(request));
  }
  if (text_at != text_length) return bad_plan("the packed text is longer than the plan");
  if (batch.empty()) return Napi::Boolean::New(env, true);
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
