// Per-environment state of the addon. The addon may be loaded by the main thread and by
// any number of worker threads at once, so nothing lives in mutable statics: each
// environment gets its own AddonData through napi_set_instance_data.
#ifndef NCM_NAPI_ADDON_DATA_H_
#define NCM_NAPI_ADDON_DATA_H_

#include <napi.h>

namespace ncm::napi {

struct AddonData {
  Napi::FunctionReference memory_store_ctor;
  Napi::FunctionReference redis_client_ctor;
};

}  // namespace ncm::napi

#endif  // NCM_NAPI_ADDON_DATA_H_
