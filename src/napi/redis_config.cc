#include "napi/redis_config.h"

#include <string>

#include "napi/errors.h"
#include "redis/tls_context.h"

namespace ncm::napi {
namespace {

uint32_t GetU32(Napi::Object config, const char* name, uint32_t fallback) {
  Napi::Value v = config.Get(name);
  if (!v.IsNumber()) return fallback;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0)) return fallback;
  if (d > 4294967295.0) return 4294967295u;
  return static_cast<uint32_t>(d);
}

std::string GetString(Napi::Object config, const char* name) {
  Napi::Value v = config.Get(name);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// `tls`: { ca, cert, key, passphrase, servername, rejectUnauthorized, minVersion, maxVersion },
// every PEM already one string (lib/redis-options.js joins arrays and decodes Buffers). The
// copies of the key and passphrase made here are wiped when `options` goes, on every path.
bool TlsFromJs(Napi::Object tls, redis::Config* out) {
  redis::TlsOptions options;
  options.ca = GetString(tls, "ca");
  options.cert = GetString(tls, "cert");
  options.key = GetString(tls, "key");
  options.passphrase = GetString(tls, "passphrase");
  options.servername = GetString(tls, "servername");
  Napi::Value reject = tls.Get("rejectUnauthorized");
  options.reject_unauthorized = !reject.IsBoolean() || reject.As<Napi::Boolean>().Value();
  options.min_version = GetString(tls, "minVersion");
  options.max_version = GetString(tls, "maxVersion");
  std::string error;
  out->tls = redis::TlsContext::Create(options, &error);
  if (!out->tls) {
    ThrowWithCode(tls.Env(), "ERR_INVALID_ARG_VALUE", error);
    return false;
  }
  return true;
}

}  // namespace

bool RedisConfigFromJs(Napi::Object c, redis::Config* out) {
  redis::Config& config = *out;
  config.host = GetString(c, "host");
  config.port = static_cast<uint16_t>(GetU32(c, "port", 6379));
  config.path = GetString(c, "path");
  config.username = GetString(c, "username");
  config.password = GetString(c, "password");
  Napi::Value credentials = c.Get("credentials");
  config.credentials_provider = credentials.IsBoolean() && credentials.As<Napi::Boolean>().Value();
  config.db = GetU32(c, "db", 0);
  config.client_name = GetString(c, "clientName");
  config.connect_timeout_ms = GetU32(c, "connectTimeout", config.connect_timeout_ms);
  config.command_timeout_ms = GetU32(c, "commandTimeout", config.command_timeout_ms);
  config.offline_queue = GetU32(c, "offlineQueue", config.offline_queue);
  config.health_interval_ms = GetU32(c, "healthCheckInterval", config.health_interval_ms);
  config.keepalive_ms = GetU32(c, "keepAlive", config.keepalive_ms);
  config.limits.max_depth = GetU32(c, "maxReplyDepth", config.limits.max_depth);
  config.limits.max_elements = GetU32(c, "maxReplyElements", 1'000'000);
  Napi::Value bytes = c.Get("maxReplyBytes");
  if (bytes.IsNumber() && bytes.As<Napi::Number>().DoubleValue() >= 1) {
    config.limits.max_reply_bytes = static_cast<uint64_t>(bytes.As<Napi::Number>().DoubleValue());
  }
  if (config.host.empty()) config.host = "127.0.0.1";
  Napi::Value tls = c.Get("tls");
  if (tls.IsObject() && !TlsFromJs(tls.As<Napi::Object>(), out)) return false;
  return true;
}

size_t MaxStringLengthFromJs(Napi::Object config, size_t fallback) {
  Napi::Value max_string = config.Get("maxStringLength");
  if (max_string.IsNumber() && max_string.As<Napi::Number>().DoubleValue() >= 1) {
    return static_cast<size_t>(max_string.As<Napi::Number>().DoubleValue());
  }
  return fallback;
}

}  // namespace ncm::napi
