// The packed batch reader: the commands a JS tick issued, packed by lib/redis-batch.js so
// that the crossing costs a few N-API calls per batch rather than several per argument, read
// back into encoded redis::Requests.
//
// Arguments (text, plan, planLength, others): `plan` (a Float64Array) holds, per command,
// its id, flags, timeout and argument count, then one entry per argument: n >= 0 means the
// next n UTF-16 code units of `text` (all short string arguments, concatenated), and n < 0
// means `others[-1 - n]` (a long string or a Uint8Array). JS thread only.
#ifndef NCM_NAPI_PACKED_BATCH_H_
#define NCM_NAPI_PACKED_BATCH_H_

#include <napi.h>

#include <memory>
#include <vector>

#include "redis/request.h"

namespace ncm::napi {

// Reads info[0..3] into `batch`. Everything is checked before anything is kept: a plan that
// does not add up throws (a JS exception is pending) and returns false with `batch` empty.
bool ReadPackedBatch(const Napi::CallbackInfo& info,
                     std::vector<std::unique_ptr<redis::Request>>* batch);

}  // namespace ncm::napi

#endif  // NCM_NAPI_PACKED_BATCH_H_
