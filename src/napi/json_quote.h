// jsonQuote(text): JSON.stringify of a string, natively (see json_quote.cc).
#ifndef NCM_NAPI_JSON_QUOTE_H_
#define NCM_NAPI_JSON_QUOTE_H_

#include <napi.h>

namespace ncm::napi {

void DefineJsonQuote(Napi::Env env, Napi::Object exports);

}  // namespace ncm::napi

#endif  // NCM_NAPI_JSON_QUOTE_H_
