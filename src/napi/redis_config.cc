#include "napi/redis_config.h"

#include <string>

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

}  // namespace

redis::Config RedisConfigFromJs(Napi::Object c) {
  redis::Config config;
  config.host = GetString(c, "host");
  config.port = static_cast<uint16_t>(GetU32(c, "port", 6379));
  config.path = GetString(c, "path");
  config.username = GetString(c, "username");
  config.password = GetString(c, "password");
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
  return config;
}

size_t MaxStringLengthFromJs(Napi::Object config, size_t fallback) {
  Napi::Value max_string = config.Get("maxStringLength");
  if (max_string.IsNumber() && max_string.As<Napi::Number>().DoubleValue() >= 1) {
    return static_cast<size_t>(max_string.As<Napi::Number>().DoubleValue());
  }
  return fallback;
}

}  // namespace ncm::napi
