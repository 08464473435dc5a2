// The event crossing: completions go from a connection manager's I/O thread to the JS
// thread through a thread-safe function, and become JS values there.
//
// RedisEvents is the manager's Sink (the I/O thread delivers into it) and the thread-safe
// function's context (its call, on the JS thread, drains it): shared by both, it outlives
// whichever ends first. The JS callback gets `(heads, values)`: `heads` is a Float64Array of
// [id, kind] pairs and `values` the matching values (kind 0 = reply, 1 = client-side failure
// with value [errorKind, message, errno], 2 = error reply with value = its text, 3 = connect
// attempt `id` wants credentials, value undefined: answer with RedisClientWrap's
// `credentials` or `credentialsFailed`); once more `(null)` after the manager closed.
#ifndef NCM_NAPI_REDIS_EVENTS_H_
#define NCM_NAPI_REDIS_EVENTS_H_

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "redis/connection_manager.h"
#include "redis/reply_buffer_pool.h"

namespace ncm::napi {

class RedisEvents : public redis::Sink {
 public:
  // `max_string_length`: the longest JS string (buffer.constants.MAX_STRING_LENGTH). Longer
  // bulk strings are refused before V8 is asked: V8 would throw from inside the conversion,
  // with no JS frame to catch it.
  // `reply_buffers`: where the storage of converted reply strings goes back for reuse (the
  // pool the manager's reader takes from; may be null).
  RedisEvents(size_t max_string_length, std::shared_ptr<redis::ReplyBufferPool> reply_buffers)
      : max_string_length_(max_string_length), reply_buffers_(std::move(reply_buffers)) {}

  // JS thread, before the manager's thread starts: the function to notify.
  void set_tsfn(napi_threadsafe_function tsfn) { tsfn_ = tsfn; }

  // Hosted manager (no I/O thread): while a run of its loop is under way on the JS thread,
  // completions wait for the owner to deliver them itself right after (TakeDirect, Drain)
  // instead of going through the thread-safe function.
  void set_deferred(bool deferred) {
    std::lock_guard<std::mutex> lock(mutex_);
    deferred_ = deferred;
  }
  // Whether anything waits for a direct delivery; clears the mark.
  bool TakeDirect() {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool wanted = direct_wanted_;
    direct_wanted_ = false;
    return wanted;
  }
  // Completions waiting to be drained.
  size_t Pending() {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }
  // After a Drain that left completions: has the thread-safe function deliver them.
  void NotifyIfLeft() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!items_.empty() || closed_ || !credential_requests_.empty()) NotifyLocked();
  }
  // JS thread: turns the queued completions, at most `max_items` of them, into one call of
  // `js_callback` (and the `null` call after the close, once none is left), as the
  // thread-safe function's call does. Returns whether completions are left.
  bool Drain(napi_env env, napi_value js_callback, size_t max_items = SIZE_MAX);

  // redis::Sink (I/O thread)
  void Deliver(std::vector<redis::Completion> batch) override;
  void Closed() override;
  void RequestCredentials(uint64_t attempt) override;

  // napi_threadsafe_call_js for a function whose context is a heap-allocated
  // std::shared_ptr<RedisEvents>: turns the queued completions into one JS call.
  static void CallJs(napi_env env, napi_value js_callback, void* context, void* data);
  // napi_finalize for that context.
  static void FinalizeContext(napi_env env, void* data, void* hint);

 private:
  void NotifyLocked();

  const size_t max_string_length_;
  const std::shared_ptr<redis::ReplyBufferPool> reply_buffers_;
  std::mutex mutex_;
  std::vector<redis::Completion> items_;
  std::vector<uint64_t> credential_requests_;  // connect attempts waiting for credentials
  bool closed_ = false;
  bool notified_ = false;
  bool deferred_ = false;
  bool direct_wanted_ = false;
  napi_threadsafe_function tsfn_ = nullptr;
};

}  // namespace ncm::napi

#endif  // NCM_NAPI_REDIS_EVENTS_H_
