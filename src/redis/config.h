// Config: everything a connection manager is told about its endpoint, validated and
// defaulted in lib/redis-options.js and converted in src/napi/redis_config.cc.
#ifndef NCM_REDIS_CONFIG_H_
#define NCM_REDIS_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/wipe.h"
#include "redis/reply_buffer_pool.h"
#include "redis/reply_reader.h"

namespace ncm::redis {

class TlsContext;

// The password is wiped when a Config goes, also after a move (the moved-from string may keep
// the bytes in its own buffer).
struct Config {
  Config() = default;
  Config(const Config&) = default;
  Config(Config&&) = default;
  Config& operator=(const Config&) = default;
  Config& operator=(Config&&) = default;
  ~Config() { WipeString(&password); }

  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string path;  // unix socket; used instead of host:port when not empty
  std::string username;
  std::string password;
  // Each connect attempt asks for its username and password (Endpoint::Listener::
  // OnCredentialsWanted) instead of using the two above.
  bool credentials_provider = false;
  uint32_t db = 0;
  std::string client_name;
  uint32_t connect_timeout_ms = 1000;
  uint32_t command_timeout_ms = 500;
  uint32_t offline_queue = 0;          // commands held while Redis is down; 0 = fail fast
  uint32_t health_interval_ms = 1000;  // PING an idle connection this often; 0 = never
  uint32_t keepalive_ms = 1000;        // TCP keepalive delay; 0 = off
  uint32_t reconnect_base_ms = 50;
  uint32_t reconnect_max_ms = 1000;  // a healed server is found within 1 s (R4)
  // While a TCP connect gets no answer, a fresh SYN goes out on a second socket this often
  // (the first one keeps waiting, for slow links); the kernel's own SYN retransmission comes
  // only after 1 s, then 3 s, 7 s. 0 = off.
  uint32_t connect_retry_ms = 500;
  ReaderLimits limits;
  // TLS for every connection (tls_context.h); null = plain TCP.
  std::shared_ptr<const TlsContext> tls;
  // Storage for string replies, given back by whoever converts them (reply_buffer_pool.h);
  // null = every reply string is allocated and freed on its own.
  std::shared_ptr<ReplyBufferPool> reply_buffers;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_CONFIG_H_
