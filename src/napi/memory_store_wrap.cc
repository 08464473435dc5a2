#include "napi/memory_store_wrap.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "common/clock.h"
#include "napi/errors.h"
#include "napi/string_arg.h"

namespace ncm::napi {
namespace {

// Most board rows accepted (each is two doubles): 2^24 rows, 256 MiB.
constexpr size_t kMaxBoardSlots = size_t{1} << 24;
// Above this many entries, `clear()` frees memory on the thread pool.
constexpr uint64_t kBackgroundFreeThreshold = 10000;
// Buckets examined per lock hold by the sweep: keeps the JS thread's wait short.
constexpr size_t kSweepBucketsPerStep = 2048;
// Largest expiry accepted: now + the largest ttl the JS layer allows, both within Date's range.
constexpr double kMaxExpiresAt = 1.728e16;

bool ReadLimit(Napi::Object limits, const char* name, uint64_t* out) {
  Napi::Value v = limits.Get(name);
  if (!v.IsNumber()) {
    ThrowWithCode(limits.Env(), "ERR_INVALID_ARG_TYPE",
                  std::string("limit '") + name + "' must be a number", true);
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || std::floor(d) != d) {
    ThrowWithCode(limits.Env(), "ERR_OUT_OF_RANGE",
                  std::string("limit '") + name + "' must be a non-negative integer");
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// Reads an expiry argument: epoch ms, 0 = never.
bool ReadExpiry(const Napi::CallbackInfo& info, size_t index, int64_t* out) {
  if (info.Length() <= index || info[index].IsUndefined()) {
    *out = 0;
    return true;
  }
  if (!info[index].IsNumber()) {
    ThrowWithCode(info.Env(), "ERR_INVALID_ARG_TYPE", "expiresAt must be a number", true);
    return false;
  }
  double d = info[index].As<Napi::Number>().DoubleValue();
  // Beyond the range of a JS Date the cast to int64 would be undefined behaviour.
  if (!(d >= 0) || !(d <= kMaxExpiresAt)) {
    ThrowWithCode(info.Env(), "ERR_OUT_OF_RANGE",
                  "expiresAt must be a number of epoch ms from 0 to 17280000000000000");
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool ReadKey(const Napi::CallbackInfo& info, size_t index, StringArg* key) {
  if (info.Length() <= index || !info[index].IsString()) {
    ThrowWithCode(info.Env(), "ERR_INVALID_ARG_TYPE", "key must be a string", true);
    return false;
  }
  return key->Read(info.Env(), info[index]);
}

// Runs `job->Execute()` on libuv's thread pool, then `job->Complete(env, status)` on the JS
// thread, and frees the job. Every napi status is checked: while a worker thread is being
// terminated, napi refuses new promises and work, and an unchecked output would be garbage.
// Returns false, with nothing queued and the job already freed, when the work was refused.
template <typename Job>
bool QueueJob(napi_env env, const char* name, std::unique_ptr<Job> job) {
  napi_value resource_name = nullptr;
  if (napi_create_string_latin1(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok) {
    return false;
  }
  auto execute = [](napi_env, void* data) { static_cast<Job*>(data)->Execute(); };
  auto complete = [](napi_env env, napi_status status, void* data) {
    std::unique_ptr<Job> owned(static_cast<Job*>(data));
    owned->Complete(env, status);
    napi_delete_async_work(env, owned->work);
  };
  Job* raw = job.get();
  if (napi_create_async_work(env, nullptr, resource_name, execute, complete, raw, &raw->work) !=
      napi_ok) {
    return false;
  }
  if (napi_queue_async_work(env, raw->work) != napi_ok) {
    napi_delete_async_work(env, raw->work);
    return false;
  }
  job.release();  // owned by the work item until `complete` runs
  return true;
}

// One full pass of the expiry sweep; resolves a promise with the number of entries removed.
struct SweepJob {
  napi_async_work work = nullptr;
  std::shared_ptr<store::MemoryStore> store;  // keeps the core alive if the wrapper is closed
  napi_deferred deferred = nullptr;
  size_t removed = 0;

  void Execute() {
    const int64_t now = NowMs();
    bool wrapped = false;
    // One pass over the table, one short lock hold per step.
    while (!wrapped) removed += store->SweepStep(now, kSweepBucketsPerStep, &wrapped);
  }
  void Complete(napi_env env, napi_status status) {
    napi_value result = nullptr;
    if (status == napi_ok &&
        napi_create_double(env, static_cast<double>(removed), &result) == napi_ok) {
      napi_resolve_deferred(env, deferred, result);
      return;
    }
    // Cancelled, or the environment is going away: settle the promise if napi still can.
    napi_value message = nullptr;
    if (napi_create_string_utf8(env, "the sweep was cancelled", NAPI_AUTO_LENGTH, &message) ==
            napi_ok &&
        napi_create_error(env, nullptr, message, &result) == napi_ok) {
      napi_reject_deferred(env, deferred, result);
    }
  }
};

// Frees the entries of a large clear() off the JS thread.
struct FreeJob {
  napi_async_work work = nullptr;
  std::unique_ptr<store::DetachedEntries> garbage;

  void Execute() { garbage.reset(); }
  void Complete(napi_env, napi_status) {}  // a cancelled job frees its entries in ~FreeJob
};

// Frees detached entries: on the thread pool when there are many, otherwise (or when the
// thread pool refuses work) right here.
void FreeDetached(napi_env env, uint64_t entries, std::unique_ptr<store::DetachedEntries> garbage) {
  if (entries <= kBackgroundFreeThreshold) return;  // `garbage` is freed on return
  auto job = std::make_unique<FreeJob>();
  job->garbage = std::move(garbage);
  QueueJob(env, "ncm:free", std::move(job));
}

}  // namespace

Napi::Function MemoryStoreWrap::Define(Napi::Env env) {
  return DefineClass(env, "MemoryStoreWrap",
                     {
                         InstanceMethod<&MemoryStoreWrap::Get>("get"),
                         InstanceMethod<&MemoryStoreWrap::Set>("set"),
                         InstanceMethod<&MemoryStoreWrap::Has>("has"),
                         InstanceMethod<&MemoryStoreWrap::SetDecodedSlot>("setDecodedSlot"),
                         InstanceMethod<&MemoryStoreWrap::AttachBoard>("attachBoard"),
                         InstanceMethod<&MemoryStoreWrap::Delete>("delete"),
                         InstanceMethod<&MemoryStoreWrap::ExpiresAt>("expiresAt"),
                         InstanceMethod<&MemoryStoreWrap::DeletePrefix>("deletePrefix"),
                         InstanceMethod<&MemoryStoreWrap::Clear>("clear"),
                         InstanceMethod<&MemoryStoreWrap::Sweep>("sweep"),
                         InstanceMethod<&MemoryStoreWrap::Stats>("stats"),
                         InstanceMethod<&MemoryStoreWrap::Close>("close"),
                     });
}

MemoryStoreWrap::MemoryStoreWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<MemoryStoreWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::TypedArray>().ElementLength() < 5) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "MemoryStoreWrap(limits, meta) needs an object and a Float64Array(5)", true);
    return;
  }
  Napi::Object limits_obj = info[0].As<Napi::Object>();
  store::Limits limits;
  if (!ReadLimit(limits_obj, "maxEntries", &limits.max_entries) ||
      !ReadLimit(limits_obj, "maxBytes", &limits.max_bytes) ||
      !ReadLimit(limits_obj, "maxValueBytes", &limits.max_value_bytes) ||
      !ReadLimit(limits_obj, "maxKeyBytes", &limits.max_key_bytes)) {
    return;
  }
  Napi::Float64Array meta = info[1].As<Napi::Float64Array>();
  meta_ref_ = Napi::Persistent(meta);
  meta_ = meta.Data();
  store_ = std::make_shared<store::MemoryStore>(limits);
}

// The core may outlive this wrapper (a sweep under way holds it); the board's memory does
// not, so the core lets go of it first.
MemoryStoreWrap::~MemoryStoreWrap() {
  if (store_) store_->AttachBoard(nullptr, 0);
}

bool MemoryStoreWrap::CheckOpen(Napi::Env env) {
  if (store_) return true;
  ThrowWithCode(env, "ERR_STORE_CLOSED", "the memory store is closed");
  return false;
}

// get(key[, hinted]): the value of a live entry, or undefined. Writes into `meta` the entry's
// tag, expiry, generation, whether it had been read before, and its decoded-copy slot hint
// (0 = none). With `hinted` true, an entry that has a hint returns `true` instead of a copy
// of its value: the caller holds a decoded copy (and checks its generation against meta).
Napi::Value MemoryStoreWrap::Get(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg key;
  if (!CheckOpen(env) || !ReadKey(info, 0, &key)) return env.Undefined();
  const bool hinted = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>();
  napi_value result = nullptr;
  bool copy_held = false;
  double* meta = meta_;
  const bool found = store_->Get(key.view(), CoarseNowMs(), [&](const store::EntryView& view) {
    meta[0] = view.tag;
    meta[1] = static_cast<double>(view.expires_at);
    meta[2] = static_cast<double>(view.generation);
    meta[3] = view.was_visited ? 1 : 0;
    meta[4] = view.decoded_slot;
    if (hinted && view.decoded_slot != 0) {
      copy_held = true;
    } else if (view.is_ascii) {
      // ASCII is a subset of Latin-1, whose conversion skips UTF-8 decoding.
      napi_create_string_latin1(env, view.value.data(), view.value.size(), &result);
    } else if (view.is_text) {
      napi_create_string_utf8(env, view.value.data(), view.value.size(), &result);
    } else {
      void* data = nullptr;
      napi_create_buffer_copy(env, view.value.size(), view.value.data(), &data, &result);
    }
  });
  if (!found) return env.Undefined();
  if (copy_held) return Napi::Boolean::New(env, true);
  if (result == nullptr) {
    ThrowWithCode(env, "ERR_OUT_OF_MEMORY", "could not create the JS value for a cached entry");
    return env.Undefined();
  }
  return Napi::Value(env, result);
}

// setDecodedSlot(key, generation, slot): records (slot > 0) or clears (0) where the JS side
// keeps a decoded copy of the live entry `key`, if it is still the one made by write
// `generation`. Returns whether it was.
Napi::Value MemoryStoreWrap::SetDecodedSlot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg key;
  if (!CheckOpen(env) || !ReadKey(info, 0, &key)) return env.Undefined();
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "setDecodedSlot(key, generation, slot): expected numbers", true);
    return env.Undefined();
  }
  const double generation = info[1].As<Napi::Number>().DoubleValue();
  const double slot = info[2].As<Napi::Number>().DoubleValue();
  if (!(generation >= 1 && generation <= static_cast<double>(store::Entry::kGenerationMask)) ||
      !(slot >= 0 && slot <= 4294967295.0)) {
    ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", "setDecodedSlot: generation or slot out of range",
                  true);
    return env.Undefined();
  }
  return Napi::Boolean::New(env,
                            store_->SetDecodedSlot(key.view(), static_cast<uint64_t>(generation),
                                                   static_cast<uint32_t>(slot), CoarseNowMs()));
}

// attachBoard(board): a Float64Array of 2 × n doubles (n from 2 to 2^24) becomes the board
// (see MemoryStore::AttachBoard): rows of the one it replaces are copied into it.
Napi::Value MemoryStoreWrap::AttachBoard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE", "attachBoard(board): expected a Float64Array", true);
    return env.Undefined();
  }
  Napi::Float64Array board = info[0].As<Napi::Float64Array>();
  const size_t length = board.ElementLength();
  if (length < 4 || length % 2 != 0 || length / 2 > kMaxBoardSlots) {
    ThrowWithCode(env, "ERR_OUT_OF_RANGE",
                  "attachBoard: the board must hold an even number of doubles, from 4 to 2^25",
                  true);
    return env.Undefined();
  }
  store_->AttachBoard(board.Data(), static_cast<uint32_t>(length / 2));
  board_ref_ = Napi::Persistent(board);  // the previous board is released only now
  return env.Undefined();
}

Napi::Value MemoryStoreWrap::Set(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg key;
  if (!CheckOpen(env) || !ReadKey(info, 0, &key)) return env.Undefined();
  if (info.Length() < 3 || !info[2].IsNumber()) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE", "tag must be a number", true);
    return env.Undefined();
  }
  const uint32_t tag = info[2].As<Napi::Number>().Uint32Value();
  int64_t expires_at = 0;
  if (!ReadExpiry(info, 3, &expires_at)) return env.Undefined();

  Status status;
  if (info[1].IsString()) {
    StringArg text;
    bool fits = false;
    if (!text.ReadIfShort(env, info[1], &fits)) return env.Undefined();
    if (fits) {
      status = store_->Set(key.view(), text.view(), static_cast<uint8_t>(tag), true, expires_at,
                           CoarseNowMs());
    } else {
      // Long text: measure it, then let V8 write the UTF-8 straight into the new entry.
      size_t length = 0;
      if (napi_get_value_string_utf8(env, info[1], nullptr, 0, &length) != napi_ok) {
        return env.Undefined();
      }
      napi_value text_value = info[1];
      status =
          store_->SetFilled(key.view(), length, static_cast<uint8_t>(tag), true, expires_at,
                            CoarseNowMs(), [&](char* dst) {
                              size_t copied = 0;
                              return napi_get_value_string_utf8(env, text_value, dst, length + 1,
                                                                &copied) == napi_ok &&
                                     copied == length;
                            });
    }
  } else if (info[1].IsTypedArray() &&
             info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
    status = store_->Set(
        key.view(),
        std::string_view(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength()),
        static_cast<uint8_t>(tag), false, expires_at, CoarseNowMs());
  } else {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE", "payload must be a string or a Uint8Array", true);
    return env.Undefined();
  }
  switch (status) {
    case Status::kOk:
      break;
    case Status::kKeyTooLarge:
      ThrowWithCode(env, "ERR_KEY_TOO_LARGE",
                    "key is " + std::to_string(key.view().size()) + " bytes; maxKeyBytes is " +
                        std::to_string(store_->limits().max_key_bytes));
      break;
    case Status::kAborted:
      ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", "the string value could not be read");
      break;
    case Status::kValueTooLarge:
      ThrowWithCode(env, "ERR_VALUE_TOO_LARGE",
                    "serialized value exceeds maxValueBytes (" +
                        std::to_string(store_->limits().max_value_bytes) + ")");
      break;
    default:
      ThrowWithCode(env, "ERR_VALUE_TOO_LARGE",
                    std::string("entry does not fit in the store: ") + StatusName(status) +
                        " (maxBytes " + std::to_string(store_->limits().max_bytes) + ")");
      break;
  }
  return env.Undefined();
}

Napi::Value MemoryStoreWrap::Has(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg key;
  if (!CheckOpen(env) || !ReadKey(info, 0, &key)) return env.Undefined();
  return Napi::Boolean::New(env, store_->Has(key.view(), CoarseNowMs()));
}

Napi::Value MemoryStoreWrap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg key;
  if (!CheckOpen(env) || !ReadKey(info, 0, &key)) return env.Undefined();
  return Napi::Boolean::New(env, store_->Delete(key.view(), CoarseNowMs()));
}

Napi::Value MemoryStoreWrap::ExpiresAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg key;
  if (!CheckOpen(env) || !ReadKey(info, 0, &key)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(store_->ExpiresAt(key.view(), CoarseNowMs())));
}

Napi::Value MemoryStoreWrap::DeletePrefix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StringArg prefix;
  if (!CheckOpen(env) || !ReadKey(info, 0, &prefix)) return env.Undefined();
  return Napi::Number::New(env, static_cast<double>(store_->DeletePrefix(prefix.view())));
}

Napi::Value MemoryStoreWrap::Clear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  const uint64_t entries = store_->GetStats().entries;
  FreeDetached(env, entries, store_->DetachAll());
  return Napi::Number::New(env, static_cast<double>(entries));
}

Napi::Value MemoryStoreWrap::Sweep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  auto job = std::make_unique<SweepJob>();
  job->store = store_;
  napi_value promise = nullptr;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    // Only a terminating environment refuses a promise; there is nobody left to answer.
    return Napi::Value();
  }
  napi_deferred deferred = job->deferred;
  if (!QueueJob(env, "ncm:sweep", std::move(job))) {
    napi_value reason = Napi::Error::New(env, "the sweep could not be queued").Value();
    napi_reject_deferred(env, deferred, reason);
  }
  return Napi::Value(env, promise);
}

Napi::Value MemoryStoreWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  const store::Stats s = store_->GetStats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("hits", static_cast<double>(s.hits));
  out.Set("misses", static_cast<double>(s.misses));
  out.Set("sets", static_cast<double>(s.sets));
  out.Set("deletes", static_cast<double>(s.deletes));
  out.Set("evictions", static_cast<double>(s.evictions));
  out.Set("expirations", static_cast<double>(s.expirations));
  out.Set("entries", static_cast<double>(s.entries));
  out.Set("bytes", static_cast<double>(s.bytes));
  return out;
}

Napi::Value MemoryStoreWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (store_) {
    const uint64_t entries = store_->GetStats().entries;
    FreeDetached(env, entries, store_->DetachAll());
    store_->AttachBoard(nullptr, 0);
    store_.reset();
    board_ref_.Reset();
  }
  return env.Undefined();
}

}  // namespace ncm::napi
