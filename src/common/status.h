// Status codes shared by the native core. The core never throws: C callbacks from
// hiredis and libuv must never be unwound through, so every fallible call returns one
// of these and the N-API layer turns it into a typed JS error.
#ifndef NCM_COMMON_STATUS_H_
#define NCM_COMMON_STATUS_H_

#include <cstdint>

namespace ncm {

enum class Status : uint8_t {
  kOk = 0,
  kKeyTooLarge,
  kValueTooLarge,
  kEntryTooLarge,  // key + value + overhead exceed the byte budget of the whole store
  kAborted,        // the caller's value writer gave up (SetFilled)
};

// Stable, human-readable name for logs and error messages.
const char* StatusName(Status status);

}  // namespace ncm

#endif  // NCM_COMMON_STATUS_H_
