// Module entry point: registers the wrapped classes for this environment (the main thread
// or a worker; the addon keeps no mutable statics, so it may be loaded by several at once).
#include <napi.h>

#include "common/clock.h"
#include "napi/json_quote.h"
#include "napi/memory_store_wrap.h"
#include "napi/redis_client_wrap.h"

namespace ncm::napi {
namespace {

// wallClockMs(): the clock the memory store judges expiry by (epoch ms), for readers that
// judge it themselves (see lib/decoded-cache.js).
Napi::Value WallClockMs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(NowMs()));
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("MemoryStoreWrap", MemoryStoreWrap::Define(env));
  exports.Set("wallClockMs", Napi::Function::New<WallClockMs>(env, "wallClockMs"));
  exports.Set("RedisClientWrap", RedisClientWrap::Define(env));
  DefineJsonQuote(env, exports);
  return exports;
}

}  // namespace
}  // namespace ncm::napi

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return ncm::napi::InitAddon(env, exports);
}

NODE_API_MODULE(native_cache_manager, Init)
