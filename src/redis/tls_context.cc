#include "redis/tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <utility>
#include <vector>

namespace ncm::redis {
namespace {

// OpenSSL's reason for the last error on this thread's queue, e.g. "bad decrypt",
// "no start line"; the queue is emptied.
std::string LastReason(const char* fallback) {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  std::string out = reason != nullptr ? reason : fallback;
  ERR_clear_error();
  return out;
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

bool Fail(std::string* error, std::string message) {
  ERR_clear_error();
  *error = std::move(message);
  return false;
}

// Every certificate of the PEM text of option `option` ("tls.ca"), in order, into `*certs`
// (blocks of other kinds are skipped). A certificate block that cannot be read fails the
// whole option: a CA bundle is never cut short at a bad block without a word.
bool ReadCertificates(const std::string& pem, const char* option, std::vector<X509Ptr>* certs,
                      std::string* error) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  if (!bio) return Fail(error, std::string("option '") + option + "' could not be read");
  for (;;) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    certs->emplace_back(cert);
  }
  // The loop ends with "no start line" once the text is used up: not an error.
  const unsigned long code = ERR_peek_last_error();
  if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
    if (certs->empty()) {
      return Fail(error, std::string("option '") + option + "' holds no PEM certificate");
    }
    ERR_clear_error();
    return true;
  }
  return Fail(error, std::string("option '") + option + "': certificate " +
                         std::to_string(certs->size() + 1) + " could not be read (" +
                         LastReason("unreadable") + ")");
}

// PEM password callback: the passphrase, or none (never a prompt on the terminal, which is
// what OpenSSL's default callback would do for an encrypted key).
int PassphraseCallback(char* buf, int size, int, void* user) {
  const auto* passphrase = static_cast<const std::string*>(user);
  if (passphrase == nullptr || passphrase->empty()) return -1;
  const int length = static_cast<int>(passphrase->size());
  if (length > size) return -1;
  std::memcpy(buf, passphrase->data(), static_cast<size_t>(length));
  return length;
}

int VersionOf(const std::string& name) {
  if (name == "TLSv1") return TLS1_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  return -1;
}

bool Configure(SSL_CTX* ctx, const TlsOptions& options, std::string* error) {
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!options.min_version.empty()) {
    const int version = VersionOf(options.min_version);
    if (version < 0 || SSL_CTX_set_min_proto_version(ctx, version) != 1) {
      return Fail(error, "option 'tls.minVersion' is not supported: '" + options.min_version + "'");
    }
  }
  if (!options.max_version.empty()) {
    const int version = VersionOf(options.max_version);
    if (version < 0 || SSL_CTX_set_max_proto_version(ctx, version) != 1) {
      return Fail(error, "option 'tls.maxVersion' is not supported: '" + options.max_version + "'");
    }
  }
  if (!options.ca.empty()) {
    std::vector<X509Ptr> certs;
    if (!ReadCertificates(options.ca, "tls.ca", &certs, error)) return false;
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& cert : certs) {
      // The same CA listed twice is fine ("cert already in hash table").
      if (X509_STORE_add_cert(store, cert.get()) != 1) ERR_clear_error();
    }
  }
  if (!options.cert.empty()) {
    std::vector<X509Ptr> chain;
    if (!ReadCertificates(options.cert, "tls.cert", &chain, error)) return false;
    if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) {
      return Fail(error, "option 'tls.cert' could not be used (" + LastReason("refused") + ")");
    }
    for (size_t i = 1; i < chain.size(); ++i) {
      if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
        return Fail(error, "option 'tls.cert': certificate " + std::to_string(i + 1) +
                               " of the chain could not be used (" + LastReason("refused") + ")");
      }
    }
  }
  if (!options.key.empty()) {
    if (options.cert.empty()) return Fail(error, "option 'tls.key' needs 'tls.cert'");
    BioPtr bio = MemoryBio(options.key);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback,
                                                  const_cast<std::string*>(&options.passphrase))
                        : nullptr;
    if (key == nullptr) {
      // e.g. "bad decrypt" (wrong passphrase), "no start line" (not PEM); never the key.
      return Fail(error, "option 'tls.key' could not be read (" + LastReason("unreadable") +
                             (options.passphrase.empty() ? "; is it encrypted? set 'tls.passphrase'"
                                                         : "; is 'tls.passphrase' the right one?") +
                             ")");
    }
    const int used = SSL_CTX_use_PrivateKey(ctx, key);
    EVP_PKEY_free(key);
    if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      return Fail(error, "option 'tls.key' does not match the certificate of 'tls.cert' (" +
                             LastReason("mismatch") + ")");
    }
  } else if (!options.cert.empty()) {
    return Fail(error, "option 'tls.cert' needs 'tls.key'");
  }
  SSL_CTX_set_verify(ctx, options.reject_unauthorized ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  return true;
}

}  // namespace

struct TlsContext::Passkey {};

std::shared_ptr<const TlsContext> TlsContext::Create(const TlsOptions& options,
                                                     std::string* error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = "TLS could not be set up (" + LastReason("out of memory") + ")";
    return nullptr;
  }
  if (!Configure(ctx, options, error)) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  ERR_clear_error();
  return std::make_shared<const TlsContext>(Passkey{}, ctx, options.reject_unauthorized,
                                            options.servername);
}

TlsContext::TlsContext(const Passkey&, SSL_CTX* ctx, bool verify, std::string servername)
    : ctx_(ctx), verify_(verify), servername_(std::move(servername)) {}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace ncm::redis
