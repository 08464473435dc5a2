#include "common/status.h"

namespace ncm {

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kKeyTooLarge:
      return "key too large";
    case Status::kValueTooLarge:
      return "value too large";
    case Status::kEntryTooLarge:
      return "entry larger than the store's byte budget";
    case Status::kAborted:
      return "aborted";
  }
  return "unknown";
}

}  // namespace ncm
