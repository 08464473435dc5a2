// The RedisClientWrap constructor's `config` object as a redis::Config. The object was
// validated and defaulted by lib/redis-options.js; here a missing or out-of-range field
// falls back to the core's default rather than failing. Its `tls` object (PEM texts,
// flags, versions) becomes the TLS context here, on the JS thread, so a certificate or key
// OpenSSL cannot use fails the constructor. JS thread only.
#ifndef NCM_NAPI_REDIS_CONFIG_H_
#define NCM_NAPI_REDIS_CONFIG_H_

#include <napi.h>

#include <cstddef>

#include "redis/config.h"

namespace ncm::napi {

// Fills `*out`. On failure (a TLS setting OpenSSL refuses) throws an Error with code
// ERR_INVALID_ARG_VALUE whose message names the option, and returns false.
bool RedisConfigFromJs(Napi::Object config, redis::Config* out);

// `maxStringLength` (buffer.constants.MAX_STRING_LENGTH, passed by lib/redis-client.js), or
// `fallback` when absent.
size_t MaxStringLengthFromJs(Napi::Object config, size_t fallback);

}  // namespace ncm::napi

#endif  // NCM_NAPI_REDIS_CONFIG_H_
