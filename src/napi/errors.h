// Helpers to throw JS errors that carry a stable `code`. lib/memory-store.js turns the codes
// a caller can cause (ERR_KEY_TOO_LARGE, ERR_VALUE_TOO_LARGE, ERR_STORE_CLOSED) into the
// classes of lib/errors.js. The others (arguments the JS layer has already validated, a JS
// value or thread-safe function that could not be created) reach callers as plain Errors.
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
