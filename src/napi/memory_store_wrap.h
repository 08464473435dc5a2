// JS face of ncm::store::MemoryStore. Arguments are validated in lib/memory-store.js;
// this layer re-checks types at the boundary (a wrong type is a TypeError, never a crash)
// and converts values. Every method runs on the JS thread; only `sweep()` and the freeing
// of the entries of a large `clear()` or `close()` go to libuv's thread pool.
#ifndef NCM_NAPI_MEMORY_STORE_WRAP_H_
#define NCM_NAPI_MEMORY_STORE_WRAP_H_

#include <napi.h>

#include <memory>

#include "store/memory_store.h"

namespace ncm::napi {

class MemoryStoreWrap : public Napi::ObjectWrap<MemoryStoreWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new MemoryStoreWrap(limits, meta): `limits` holds maxEntries, maxBytes, maxValueBytes,
  // maxKeyBytes; `meta` is a Float64Array(5) that `get` fills with [tag, expiresAt,
  // generation, read before (0/1), decoded-copy slot (0 = none)].
  explicit MemoryStoreWrap(const Napi::CallbackInfo& info);
  ~MemoryStoreWrap() override;

 private:
  Napi::Value Get(const Napi::CallbackInfo& info);
  Napi::Value Set(const Napi::CallbackInfo& info);
  Napi::Value Has(const Napi::CallbackInfo& info);
  Napi::Value SetDecodedSlot(const Napi::CallbackInfo& info);
  Napi::Value AttachBoard(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value ExpiresAt(const Napi::CallbackInfo& info);
  Napi::Value DeletePrefix(const Napi::CallbackInfo& info);
  Napi::Value Clear(const Napi::CallbackInfo& info);
  Napi::Value Sweep(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  bool CheckOpen(Napi::Env env);

  // Shared with background work so the core outlives a finalized wrapper.
  std::shared_ptr<store::MemoryStore> store_;
  Napi::Reference<Napi::Float64Array> meta_ref_;
  double* meta_ = nullptr;
  // The board (see MemoryStore::AttachBoard); held here so its memory outlives its use.
  Napi::Reference<Napi::Float64Array> board_ref_;
};

}  // namespace ncm::napi

#endif  // NCM_NAPI_MEMORY_STORE_WRAP_H_
