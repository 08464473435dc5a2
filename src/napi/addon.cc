// Module entry point: registers the wrapped classes for this environment.
#include <napi.h>

#include "napi/addon_data.h"
#include "napi/memory_store_wrap.h"
#include "napi/redis_client_wrap.h"

namespace ncm::napi {
namespace {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();  // owned by the environment: freed by napi on teardown
  env.SetInstanceData<AddonData>(data);
  Napi::Function memory_store = MemoryStoreWrap::Define(env);
  data->memory_store_ctor = Napi::Persistent(memory_store);
  exports.Set("MemoryStoreWrap", memory_store);
  Napi::Function redis_client = RedisClientWrap::Define(env);
  data->redis_client_ctor = Napi::Persistent(redis_client);
  exports.Set("RedisClientWrap", redis_client);
  return exports;
}

}  // namespace
}  // namespace ncm::napi

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return ncm::napi::InitAddon(env, exports);
}

NODE_API_MODULE(native_cache_manager, Init)
