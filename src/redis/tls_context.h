// TlsContext: the TLS settings every connection of one manager shares, as an OpenSSL
// SSL_CTX built once: the trusted CAs, the client certificate and key, the protocol
// versions, whether the peer is verified, and the name to verify it against.
//
// The OpenSSL is the one Node itself exports to addons (its headers ship with Node): the
// addon never loads a second libssl. Built on the JS thread (so a bad certificate or key
// fails the constructor, not the first command), then used read-only by the I/O thread.
#ifndef NCM_REDIS_TLS_CONTEXT_H_
#define NCM_REDIS_TLS_CONTEXT_H_

#include <memory>
#include <string>

#include "common/wipe.h"

struct ssl_ctx_st;  // SSL_CTX

namespace ncm::redis {

// The key and passphrase are wiped when the options go (once the context is built, OpenSSL
// holds its own parsed copy of the key, and the passphrase is no longer needed).
struct TlsOptions {
  TlsOptions() = default;
  TlsOptions(const TlsOptions&) = delete;
  TlsOptions& operator=(const TlsOptions&) = delete;
  ~TlsOptions() {
    WipeString(&key);
    WipeString(&passphrase);
  }

  std::string ca;                   // PEM: the trusted certificates (one or more); empty = none
  std::string cert;                 // PEM: the client certificate, then its chain; empty = none
  std::string key;                  // PEM: the client certificate's private key
  std::string passphrase;           // for an encrypted key
  std::string servername;           // the name to verify and send as SNI; empty = the host
  bool reject_unauthorized = true;  // false: no verification at all
  std::string min_version;          // "TLSv1" … "TLSv1.3"; empty = OpenSSL's default
  std::string max_version;
};

class TlsContext {
 public:
  // Builds the context. On failure returns null and sets `*error` to a message that names
  // the option at fault and OpenSSL's reason, never the option's content (a key or a
  // passphrase must not reach a message). Leaves the calling thread's OpenSSL error queue
  // empty either way.
  static std::shared_ptr<const TlsContext> Create(const TlsOptions& options, std::string* error);

  struct Passkey;  // only Create constructs
  TlsContext(const Passkey&, ssl_ctx_st* ctx, bool verify, std::string servername);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* ctx() const { return ctx_; }
  bool verify() const { return verify_; }
  const std::string& servername() const { return servername_; }

 private:
  ssl_ctx_st* const ctx_;  // owned (SSL_CTX_free); shared read-only by the connections
  const bool verify_;
  const std::string servername_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_TLS_CONTEXT_H_
