// Helpers to throw JS errors that carry a stable `code`. The JS layer maps these codes to
// the error classes exported from lib/errors.js.
#ifndef NCM_NAPI_ERRORS_H_
#define NCM_NAPI_ERRORS_H_

#include <napi.h>

#include <string>

namespace ncm::napi {

inline void ThrowWithCode(Napi::Env env, const char* code, const std::string& message,
                          bool type_error = false) {
  Napi::Error error =
      type_error ? Napi::TypeError::New(env, message) : Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.ThrowAsJavaScriptException();
}

}  // namespace ncm::napi

#endif  // NCM_NAPI_ERRORS_H_
