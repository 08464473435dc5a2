// Reads a JS string argument as UTF-8 bytes without a heap allocation for the common
// short case. Any byte sequence V8 produces is kept as is (NUL, CR, LF included).
#ifndef NCM_NAPI_STRING_ARG_H_
#define NCM_NAPI_STRING_ARG_H_

#include <napi.h>

#include <array>
#include <string>
#include <string_view>

namespace ncm::napi {

class StringArg {
 public:
  static constexpr size_t kMaxCharBytes = 4;

  // Reads `value` only if it fits the inline buffer; sets `*fits`. Returns false (with a
  // pending JS exception) if `value` is not a string.
  bool ReadIfShort(napi_env env, napi_value value, bool* fits) {
    size_t copied = 0;
    if (napi_get_value_string_utf8(env, value, inline_.data(), inline_.size(), &copied) !=
        napi_ok) {
      return false;
    }
    // V8 stops before a character that does not fit, so a short `copied` does not prove
    // the string ended: only a margin of a whole character (up to 4 UTF-8 bytes) does.
    *fits = copied + kMaxCharBytes < inline_.size() - 1;
    if (*fits) view_ = std::string_view(inline_.data(), copied);
    return true;
  }

  // Returns false (with a pending JS exception) if `value` is not a string.
  bool Read(napi_env env, napi_value value) {
    bool fits = false;
    if (!ReadIfShort(env, value, &fits)) return false;
    if (fits) return true;
    size_t copied = 0;
    // Possibly truncated: ask for the exact length and copy again.
    size_t length = 0;
    if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
    heap_.resize(length + 1);
    if (napi_get_value_string_utf8(env, value, heap_.data(), heap_.size(), &copied) != napi_ok) {
      return false;
    }
    view_ = std::string_view(heap_.data(), copied);
    return true;
  }

  std::string_view view() const { return view_; }

 private:
  std::array<char, 1024> inline_;
  std::string heap_;
  std::string_view view_;
};

}  // namespace ncm::napi

#endif  // NCM_NAPI_STRING_ARG_H_
