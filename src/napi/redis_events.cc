#include "napi/redis_events.h"

#include <string>
#include <utility>

namespace ncm::napi {
namespace {

// The conversion below uses the C API with every status checked: it runs from the
// thread-safe function's callback, which may fire while a worker is being terminated, and
// then each call may fail. A reply that cannot be converted fails its own caller only
// (see CompletionValue); a failure to build the batch itself drops the batch quietly.

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

// Moves the storage of `reply`'s strings (elements included) that the pool would keep into
// `spent`, stopping once that is as much as the pool holds.
void CollectSpent(redis::Reply* reply, std::vector<std::string>* spent, size_t* bytes) {
  if (*bytes >= redis::ReplyBufferPool::kMaxBytes) return;
  const size_t capacity = reply->str.capacity();
  if (redis::ReplyBufferPool::Pooled(capacity)) {
    *bytes += capacity;
    spent->push_back(std::move(reply->str));
  }
  for (auto& element : reply->elements) CollectSpent(element.get(), spent, bytes);
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

}  // namespace

void RedisEvents::NotifyLocked() {
  // One call per batch: later completions join the batch until the JS thread drains it.
  if (!notified_) {
    notified_ = true;
    if (deferred_) {
      direct_wanted_ = true;
    } else {
      napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
    }
  }
}

void RedisEvents::Deliver(std::vector<redis::Completion> batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (items_.empty()) {
    items_ = std::move(batch);
  } else {
    for (auto& c : batch) items_.push_back(std::move(c));
  }
  NotifyLocked();
}

void RedisEvents::RequestCredentials(uint64_t attempt) {
  std::lock_guard<std::mutex> lock(mutex_);
  credential_requests_.push_back(attempt);
  NotifyLocked();
}

void RedisEvents::Closed() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  NotifyLocked();
}

// Runs on the JS thread for each batch. `env` is null while the environment is torn down:
// then nothing may call into JS.
void RedisEvents::CallJs(napi_env env, napi_value js_callback, void* context, void*) {
  // While the function is being torn down Node calls this with a null env, possibly after
  // the context is gone: touch nothing (queued completions are freed with the events).
  if (env == nullptr || js_callback == nullptr || context == nullptr) return;
  static_cast<std::shared_ptr<RedisEvents>*>(context)->get()->Drain(env, js_callback);
}

bool RedisEvents::Drain(napi_env env, napi_value js_callback, size_t max_items) {
  RedisEvents* self = this;
  std::vector<redis::Completion> items;
  std::vector<uint64_t> credential_requests;
  bool closed = false;
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (self->items_.size() <= max_items) {
      items.swap(self->items_);
    } else {
      const auto split = self->items_.begin() + static_cast<std::ptrdiff_t>(max_items);
      items.assign(std::make_move_iterator(self->items_.begin()), std::make_move_iterator(split));
      self->items_.erase(self->items_.begin(), split);
      more = true;
    }
    credential_requests.swap(self->credential_requests_);
    if (!more) {  // the close is reported after the last completion
      closed = self->closed_;
      self->closed_ = false;
    }
    self->notified_ = false;
  }
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  bool ok = true;
  const size_t count = items.size() + credential_requests.size();
  if (count > 0) {
    // (heads, values): heads is a Float64Array of [id, kind] pairs, values the matching
    // replies or error descriptions: one element store per reply instead of three.
    napi_value args[2] = {nullptr, nullptr};
    void* head_data = nullptr;
    napi_value buffer = nullptr;
    ok = napi_create_arraybuffer(env, count * 2 * sizeof(double), &head_data, &buffer) == napi_ok &&
         napi_create_typedarray(env, napi_float64_array, count * 2, buffer, 0, &args[0]) ==
             napi_ok &&
         napi_create_array_with_length(env, count, &args[1]) == napi_ok;
    double* heads = static_cast<double*>(head_data);
    std::vector<std::string> spent;  // string storage to hand back to the reader
    size_t spent_bytes = 0;
    uint32_t at = 0;
    for (redis::Completion& c : items) {
      if (!ok) break;
      double kind = 0;
      napi_value value = CompletionValue(env, c, self->max_string_length_, &kind);
      ok = value != nullptr && napi_set_element(env, args[1], at, value) == napi_ok;
      heads[2 * at] = static_cast<double>(c.id);
      heads[2 * at + 1] = kind;
      ++at;
      if (self->reply_buffers_ && c.reply) CollectSpent(c.reply.get(), &spent, &spent_bytes);
      c.reply.reset();  // free large replies before the JS callback runs
    }
    for (uint64_t attempt : credential_requests) {
      if (!ok) break;
      ok = napi_set_element(env, args[1], at, undefined) == napi_ok;
      heads[2 * at] = static_cast<double>(attempt);
      heads[2 * at + 1] = 3;
      ++at;
    }
    if (!spent.empty()) self->reply_buffers_->Give(&spent);
    spent = std::vector<std::string>();
    // An exception thrown by the callback stays pending and Node reports it as uncaught.
    if (ok) ok = napi_call_function(env, undefined, js_callback, 2, args, nullptr) == napi_ok;
  }
  if (ok && closed) {
    napi_value null_value = nullptr;
    napi_get_null(env, &null_value);
    napi_call_function(env, undefined, js_callback, 1, &null_value, nullptr);
  }
  napi_close_handle_scope(env, scope);
  return more && ok;
}

void RedisEvents::FinalizeContext(napi_env, void* data, void*) {
  // The thread-safe function owns its context (see RedisClientWrap::EnsureStarted).
  std::unique_ptr<std::shared_ptr<RedisEvents>> owned(
      static_cast<std::shared_ptr<RedisEvents>*>(data));
}

}  // namespace ncm::napi
