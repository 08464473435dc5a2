#include "redis/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "common/wipe.h"
namespace ncm::redis {
namespace {

constexpr size_t kPlainChunk = 64 * 1024;
// Plaintext is gathered into records of up to this much; ciphertext goes to the socket in
// pieces of about this size, so a 64 MiB value never sits twice in memory as one block.
constexpr size_t kRecordBytes = 16 * 1024;
constexpr size_t kFlushBytes = 256 * 1024;

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return uv_inet_pton(AF_INET, host.c_str(), buf) == 0 ||
         uv_inet_pton(AF_INET6, host.c_str(), buf) == 0;
}

// Node's code for an OpenSSL reason: "ERR_SSL_" + the reason in upper case with '_' for each
// space; other characters stay (e.g. "unsupported protocol" -> ERR_SSL_UNSUPPORTED_PROTOCOL).
std::string SslCode(const std::string& reason) {
  std::string code = "ERR_SSL_";
  for (char c : reason) {
    code.push_back(c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return code;
}

// Node names a certificate verification result after OpenSSL's constant without its
// X509_V_ERR_ prefix (X509_V_ERR_INVALID_PURPOSE -> INVALID_PURPOSE). The table holds every
// result OpenSSL 3 defines; the host and IP checks are the exception, reported as Node's
// checkServerIdentity does (Describe).
struct VerifyName {
  long result;
  const char* code;
};
#define NCM_X509_CODE(name) \
  VerifyName { X509_V_ERR_##name, #name }
constexpr VerifyName kVerifyNames[] = {
    NCM_X509_CODE(UNSPECIFIED),
    NCM_X509_CODE(UNABLE_TO_GET_ISSUER_CERT),
    NCM_X509_CODE(UNABLE_TO_GET_CRL),
    NCM_X509_CODE(UNABLE_TO_DECRYPT_CERT_SIGNATURE),
    NCM_X509_CODE(UNABLE_TO_DECRYPT_CRL_SIGNATURE),
    NCM_X509_CODE(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY),
    NCM_X509_CODE(CERT_SIGNATURE_FAILURE),
    NCM_X509_CODE(CRL_SIGNATURE_FAILURE),
    NCM_X509_CODE(CERT_NOT_YET_VALID),
    NCM_X509_CODE(CERT_HAS_EXPIRED),
    NCM_X509_CODE(CRL_NOT_YET_VALID),
    NCM_X509_CODE(CRL_HAS_EXPIRED),
    NCM_X509_CODE(ERROR_IN_CERT_NOT_BEFORE_FIELD),
    NCM_X509_CODE(ERROR_IN_CERT_NOT_AFTER_FIELD),
    NCM_X509_CODE(ERROR_IN_CRL_LAST_UPDATE_FIELD),
    NCM_X509_CODE(ERROR_IN_CRL_NEXT_UPDATE_FIELD),
    NCM_X509_CODE(OUT_OF_MEM),
    NCM_X509_CODE(DEPTH_ZERO_SELF_SIGNED_CERT),
    NCM_X509_CODE(SELF_SIGNED_CERT_IN_CHAIN),
    NCM_X509_CODE(UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    NCM_X509_CODE(UNABLE_TO_VERIFY_LEAF_SIGNATURE),
    NCM_X509_CODE(CERT_CHAIN_TOO_LONG),
    NCM_X509_CODE(CERT_REVOKED),
    NCM_X509_CODE(NO_ISSUER_PUBLIC_KEY),
    NCM_X509_CODE(PATH_LENGTH_EXCEEDED),
    NCM_X509_CODE(INVALID_PURPOSE),
    NCM_X509_CODE(CERT_UNTRUSTED),
    NCM_X509_CODE(CERT_REJECTED),
    NCM_X509_CODE(SUBJECT_ISSUER_MISMATCH),
    NCM_X509_CODE(AKID_SKID_MISMATCH),
    NCM_X509_CODE(AKID_ISSUER_SERIAL_MISMATCH),
    NCM_X509_CODE(KEYUSAGE_NO_CERTSIGN),
    NCM_X509_CODE(UNABLE_TO_GET_CRL_ISSUER),
    NCM_X509_CODE(UNHANDLED_CRITICAL_EXTENSION),
    NCM_X509_CODE(KEYUSAGE_NO_CRL_SIGN),
    NCM_X509_CODE(UNHANDLED_CRITICAL_CRL_EXTENSION),
    NCM_X509_CODE(INVALID_NON_CA),
    NCM_X509_CODE(PROXY_PATH_LENGTH_EXCEEDED),
    NCM_X509_CODE(KEYUSAGE_NO_DIGITAL_SIGNATURE),
    NCM_X509_CODE(PROXY_CERTIFICATES_NOT_ALLOWED),
    NCM_X509_CODE(INVALID_EXTENSION),
    NCM_X509_CODE(INVALID_POLICY_EXTENSION),
    NCM_X509_CODE(NO_EXPLICIT_POLICY),
    NCM_X509_CODE(DIFFERENT_CRL_SCOPE),
    NCM_X509_CODE(UNSUPPORTED_EXTENSION_FEATURE),
    NCM_X509_CODE(UNNESTED_RESOURCE),
    NCM_X509_CODE(PERMITTED_VIOLATION),
    NCM_X509_CODE(EXCLUDED_VIOLATION),
    NCM_X509_CODE(SUBTREE_MINMAX),
    NCM_X509_CODE(APPLICATION_VERIFICATION),
    NCM_X509_CODE(UNSUPPORTED_CONSTRAINT_TYPE),
    NCM_X509_CODE(UNSUPPORTED_CONSTRAINT_SYNTAX),
    NCM_X509_CODE(UNSUPPORTED_NAME_SYNTAX),
    NCM_X509_CODE(CRL_PATH_VALIDATION_ERROR),
    NCM_X509_CODE(PATH_LOOP),
    NCM_X509_CODE(SUITE_B_INVALID_VERSION),
    NCM_X509_CODE(SUITE_B_INVALID_ALGORITHM),
    NCM_X509_CODE(SUITE_B_INVALID_CURVE),
    NCM_X509_CODE(SUITE_B_INVALID_SIGNATURE_ALGORITHM),
    NCM_X509_CODE(SUITE_B_LOS_NOT_ALLOWED),
    NCM_X509_CODE(SUITE_B_CANNOT_SIGN_P_384_WITH_P_256),
    NCM_X509_CODE(EMAIL_MISMATCH),
    NCM_X509_CODE(DANE_NO_MATCH),
    NCM_X509_CODE(EE_KEY_TOO_SMALL),
    NCM_X509_CODE(CA_KEY_TOO_SMALL),
    NCM_X509_CODE(CA_MD_TOO_WEAK),
    NCM_X509_CODE(INVALID_CALL),
    NCM_X509_CODE(STORE_LOOKUP),
    NCM_X509_CODE(NO_VALID_SCTS),
    NCM_X509_CODE(PROXY_SUBJECT_NAME_VIOLATION),
    NCM_X509_CODE(OCSP_VERIFY_NEEDED),
    NCM_X509_CODE(OCSP_VERIFY_FAILED),
    NCM_X509_CODE(OCSP_CERT_UNKNOWN),
    NCM_X509_CODE(UNSUPPORTED_SIGNATURE_ALGORITHM),
    NCM_X509_CODE(SIGNATURE_ALGORITHM_MISMATCH),
    NCM_X509_CODE(SIGNATURE_ALGORITHM_INCONSISTENCY),
    NCM_X509_CODE(INVALID_CA),
    NCM_X509_CODE(PATHLEN_INVALID_FOR_NON_CA),
    NCM_X509_CODE(PATHLEN_WITHOUT_KU_KEY_CERT_SIGN),
    NCM_X509_CODE(KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA),
    NCM_X509_CODE(ISSUER_NAME_EMPTY),
    NCM_X509_CODE(SUBJECT_NAME_EMPTY),
    NCM_X509_CODE(MISSING_AUTHORITY_KEY_IDENTIFIER),
    NCM_X509_CODE(MISSING_SUBJECT_KEY_IDENTIFIER),
    NCM_X509_CODE(EMPTY_SUBJECT_ALT_NAME),
    NCM_X509_CODE(EMPTY_SUBJECT_SAN_NOT_CRITICAL),
    NCM_X509_CODE(CA_BCONS_NOT_CRITICAL),
    NCM_X509_CODE(AUTHORITY_KEY_IDENTIFIER_CRITICAL),
    NCM_X509_CODE(SUBJECT_KEY_IDENTIFIER_CRITICAL),
    NCM_X509_CODE(CA_CERT_MISSING_KEY_USAGE),
    NCM_X509_CODE(EXTENSIONS_REQUIRE_VERSION_3),
    NCM_X509_CODE(EC_KEY_EXPLICIT_PARAMS),
};
#undef NCM_X509_CODE

std::string VerifyCode(long result) {
  if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return "ERR_TLS_CERT_ALTNAME_INVALID";
  }
  for (const VerifyName& name : kVerifyNames) {
    if (name.result == result) return name.code;
  }
  // A result from a newer OpenSSL than the table: its text in the same form ("unsupported
  // certificate purpose" -> UNSUPPORTED_CERTIFICATE_PURPOSE).
  std::string code;
  for (const char* c = X509_verify_cert_error_string(result); *c != '\0'; ++c) {
    code.push_back(std::isalnum(static_cast<unsigned char>(*c))
                       ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c)))
                       : '_');
  }
  return code;
}

// "DNS:localhost, IP Address:127.0.0.1": a certificate's subject alternative names the way
// Node's checkServerIdentity quotes them.
std::string AltNames(X509* cert) {
  std::string out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    std::string one;
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      one = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_STRING* s = name->d.iPAddress;
      char text[64] = "";
      const int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      if (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16) {
        uv_inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof(text));
      }
      one = std::string("IP Address:") + text;
    } else {
      continue;
    }
    if (!out.empty()) out += ", ";
    out += one;
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Keeps the names of the certificate that failed the host name check, for the message.
int VerifyCallback(int ok, X509_STORE_CTX* store) {
  const int error = X509_STORE_CTX_get_error(store);
  if (!ok && (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    if (ssl != nullptr && cert != nullptr) {
      static_cast<TlsTransport*>(SSL_get_app_data(ssl))->set_peer_names(AltNames(cert));
    }
  }
  return ok;
}

}  // namespace

TlsTransport::TlsTransport(uv_loop_t* loop, std::shared_ptr<const TlsContext> context,
                           std::unique_ptr<Transport> inner, std::string host)
    : loop_(loop),
      context_(std::move(context)),
      inner_(std::move(inner)),
      host_(std::move(host)),
      plain_(std::make_unique<char[]>(kPlainChunk)),
      pump_timer_(loop, [this] { OnPumpTimer(); }) {}

TlsTransport::~TlsTransport() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
}

Failure TlsTransport::Describe(const char* stage) {
  Failure failure;
  failure.kind = ErrorKind::kTls;
  const long verify = ssl_ != nullptr ? SSL_get_verify_result(ssl_) : X509_V_OK;
  const unsigned long code = ERR_peek_last_error();
  std::string reason;
  if (verify != X509_V_OK && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    failure.err = VerifyCode(verify);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      // As Node's checkServerIdentity words it.
      const std::string& name = context_->servername().empty() ? host_ : context_->servername();
      reason = "Hostname/IP does not match certificate's altnames: ";
      if (verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        std::string ips;
        for (size_t at = 0; at < peer_names_.size();) {
          size_t end = peer_names_.find(", ", at);
          if (end == std::string::npos) end = peer_names_.size();
          const std::string one = peer_names_.substr(at, end - at);
          if (one.rfind("IP Address:", 0) == 0) ips += (ips.empty() ? "" : ", ") + one.substr(11);
          at = end + 2;
        }
        reason += "IP: " + name + " is not in the cert's list: " + ips;
      } else {
        reason += "Host: " + name + ". is not in the cert's altnames: " + peer_names_;
      }
    } else {
      reason = X509_verify_cert_error_string(verify);  // e.g. "self-signed certificate"
    }
  } else if (code != 0 && ERR_reason_error_string(code) != nullptr) {
    reason = ERR_reason_error_string(code);  // e.g. "unsupported protocol"
    failure.err = SslCode(reason);
  } else {
    reason = "the connection closed";
    failure.err = "ECONNRESET";
  }
  ERR_clear_error();
  failure.message = std::string(stage) + ": " + reason;
  return failure;
}

bool TlsTransport::StartHandshake(HandshakeListener* listener, Failure* failure) {
  handshake_listener_ = listener;
  ERR_clear_error();
  ssl_ = SSL_new(context_->ctx());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in == nullptr || out == nullptr) {
    if (in != nullptr) BIO_free(in);
    if (out != nullptr) BIO_free(out);
    *failure = Describe("TLS could not start");
    return false;
  }
  BIO_set_mem_eof_return(in, -1);  // an empty input BIO means "more to come", not EOF
  SSL_set_bio(ssl_, in, out);
  network_in_ = in;
  network_out_ = out;
  SSL_set_app_data(ssl_, this);
  SSL_set_connect_state(ssl_);
  const std::string& name = context_->servername().empty() ? host_ : context_->servername();
  const bool ip = IsIpLiteral(name);
  // SNI carries a host name, never an address (RFC 6066).
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl_, name.c_str());
  if (context_->verify()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    // A link-local IPv6 address may carry its zone (fe80::1%eth0): the zone picks the
    // interface, it is not part of the address a certificate names.
    const std::string address = ip ? name.substr(0, name.find('%')) : std::string();
    const int named = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, address.c_str())
                         : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (named != 1) {
      ERR_clear_error();
      failure->kind = ErrorKind::kTls;
      failure->message =
          std::string("TLS could not start: '") + name + "' could not be set as the " +
          (ip ? "IP address" : "host name") +
          " the server's certificate must name (option 'tls.servername' or the host)";
      failure->err.clear();
      return false;
    }
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, VerifyCallback);
  }
  handshaking_ = true;
  inner_->Start(this);
  AdvanceHandshake();
  return true;
}

void TlsTransport::AdvanceHandshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  const int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
  if (rc != 1 && error != SSL_ERROR_WANT_READ) {
    // Send what OpenSSL prepared (an alert) before reporting.
    std::vector<std::string> alert;
    FlushOutput(&alert);
    if (!alert.empty()) inner_->Write(std::move(alert), WriteKind::kPlain);
    FailHandshake(Describe("TLS handshake failed"));
    return;
  }
  std::vector<std::string> chunks;
  FlushOutput(&chunks);
  if (!chunks.empty()) {
    const int written = inner_->Write(std::move(chunks), WriteKind::kPlain);
    if (written != 0) {
      FailHandshake(
          Failure{ErrorKind::kConnection,
                  std::string("TLS handshake failed: write failed: ") + uv_strerror(written),
                  uv_err_name(written)});
      return;
    }
  }
  if (rc == 1) {
    handshaking_ = false;
    handshake_listener_->OnTlsHandshake(this, nullptr);
  }
}

void TlsTransport::FailHandshake(Failure failure) {
  handshaking_ = false;
  failed_ = true;
  handshake_listener_->OnTlsHandshake(this, &failure);
}

void TlsTransport::Start(Transport::Listener* listener) {
  listener_ = listener;
  // Bytes that arrived together with the end of the handshake are already decrypted-able:
  // deliver them on the next turn of the loop, once the caller has finished setting up.
  if (BIO_ctrl_pending(network_in_) > 0 || SSL_pending(ssl_) > 0) pump_timer_.Start(0);
}

void TlsTransport::OnTransportRead(const char* data, size_t size) {
  if (failed_) return;
  if (!handshaking_) received_after_handshake_ += size;
  BIO_write(network_in_, data, static_cast<int>(size));
  if (handshaking_) {
    AdvanceHandshake();
  } else if (listener_ != nullptr) {
    Pump();
  }
}

void TlsTransport::OnTransportError(const TransportError& error) {
  if (failed_) return;
  if (handshaking_) {
    failed_ = true;
    handshaking_ = false;
    // The server ended the connection in the middle of the handshake, with FIN or RST: a TLS
    // failure either way. The two cannot be told apart reliably: libuv reports an RST that
    // comes with the last bytes read as the end of the stream (it sees the hang-up after a
    // short read and does not read again), so which one the caller got would depend on how
    // the segments happened to arrive.
    const bool eof = error.op == TransportError::Op::kRead && error.status == UV_EOF;
    const bool reset = error.op == TransportError::Op::kRead && error.status == UV_ECONNRESET;
    Failure failure;
    failure.kind = eof || reset ? ErrorKind::kTls : ErrorKind::kConnection;
    failure.message = eof     ? "TLS handshake failed: the server closed the connection"
                      : reset ? "TLS handshake failed: the server reset the connection"
                              : std::string("TLS handshake failed: ") + uv_strerror(error.status);
    failure.err = eof || reset ? "ECONNRESET" : uv_err_name(error.status);
    handshake_listener_->OnTlsHandshake(this, &failure);
    return;
  }
  if (listener_ == nullptr) return;
  // Whatever was decrypted before the socket ended still goes up first.
  DestroyGuard::Scope scope(&guard_);
  Pump();
  if (scope.destroyed() || failed_) return;
  failed_ = true;
  if (received_after_handshake_ == 0 && SSL_version(ssl_) == TLS1_3_VERSION) {
    // TLS 1.3 ends the client's handshake before the server has checked the client's
    // certificate: a server that refuses it sends an alert and closes, and the reset that
    // follows (our first command was still unread) often overtakes the alert. Nothing came
    // after the handshake, not even a session ticket: report it as the TLS failure it is.
    TransportError tls_error;
    tls_error.op = TransportError::Op::kTls;
    tls_error.code = error.status == UV_EOF ? "ECONNRESET" : uv_err_name(error.status);
    tls_error.detail =
        std::string(
            "TLS connection failed: the server closed the connection right after the "
            "TLS 1.3 handshake (") +
        (error.status == UV_EOF ? "end of stream" : uv_strerror(error.status)) +
        "), as a server that requires a client certificate does when it gets none or one it "
        "does not trust";
    listener_->OnTransportError(tls_error);
    return;
  }
  listener_->OnTransportError(error);
}

void TlsTransport::Pump() {
  if (failed_ || listener_ == nullptr) return;
  DestroyGuard::Scope scope(&guard_);
  for (;;) {
    ERR_clear_error();
    size_t read = 0;
    const int rc = SSL_read_ex(ssl_, plain_.get(), kPlainChunk, &read);
    if (rc == 1) {
      listener_->OnTransportRead(plain_.get(), read);
      if (scope.destroyed() || failed_) return;
      continue;
    }
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ) break;
    failed_ = true;
    TransportError failure;
    if (error == SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify: an orderly end
      failure.op = TransportError::Op::kRead;
      failure.status = UV_EOF;
    } else {
      const Failure why = Describe("TLS connection failed");
      failure.op = TransportError::Op::kTls;
      failure.detail = why.message;
      failure.code = why.err;
    }
    listener_->OnTransportError(failure);
    return;
  }
  // Reading may have made OpenSSL answer (a key update): send that too.
  std::vector<std::string> chunks;
  FlushOutput(&chunks);
  if (chunks.empty()) return;
  const int written = inner_->Write(std::move(chunks), WriteKind::kPlain);
  if (written == 0) return;
  failed_ = true;
  TransportError failure;
  failure.op = TransportError::Op::kWrite;
  failure.status = written;
  listener_->OnTransportError(failure);
}

void TlsTransport::OnPumpTimer() {
  if (!write_failure_) {
    Pump();
    return;
  }
  const TransportError failure = std::move(*write_failure_);
  write_failure_.reset();
  if (listener_ != nullptr) listener_->OnTransportError(failure);
}

void TlsTransport::FlushOutput(std::vector<std::string>* chunks) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(network_out_, &data);
  if (size > 0) {
    chunks->emplace_back(data, static_cast<size_t>(size));
    (void)BIO_reset(network_out_);
  }
}

int TlsTransport::Write(std::vector<std::string> chunks, WriteKind kind) {
  std::vector<std::string> out;  // ciphertext: nothing to wipe
  std::string record;            // small chunks gathered into one record
  // A secret's plaintext (the chunks and the record gathered from them) is wiped on every
  // way out; OpenSSL encrypts its own copy in place. The record is sized once, so it never
  // leaves a copy behind in a block it outgrew.
  struct Wiper {
    bool secret;
    std::vector<std::string>* chunks;
    std::string* record;
    ~Wiper() {
      if (!secret) return;
      for (std::string& chunk : *chunks) WipeString(&chunk);
      WipeString(record);
    }
  } wiper{kind == WriteKind::kSecret, &chunks, &record};
  if (wiper.secret) record.reserve(kRecordBytes);
  // A TLS failure is on its way to the listener: it ends the connection and rejects what was
  // written; this write goes with them.
  if (write_failure_) return 0;
  if (failed_ || ssl_ == nullptr) return UV_EPIPE;
  size_t since_flush = 0;
  // OpenSSL refused to encrypt (the TLS session is broken): reported as the TLS error it is,
  // with OpenSSL's reason, once the caller is done; what was encrypted before is not sent.
  auto fail_write = [&] {
    failed_ = true;
    TransportError failure;
    failure.op = TransportError::Op::kTls;
    if (ERR_peek_last_error() != 0) {
      const Failure why = Describe("TLS write failed");
      failure.detail = why.message;
      failure.code = why.err;
    } else {
      failure.detail = "TLS write failed: the TLS session refused to encrypt (no reason given)";
      failure.code = "EPROTO";
    }
    write_failure_ = std::move(failure);
    pump_timer_.Start(0);
    return 0;
  };
  auto encrypt = [&](const char* data, size_t size) {
    ERR_clear_error();
    size_t written = 0;
    if (SSL_write_ex(ssl_, data, size, &written) != 1 || written != size) return false;
    since_flush += size;
    if (since_flush >= kFlushBytes) {
      FlushOutput(&out);
      since_flush = 0;
    }
    return true;
  };
  for (const std::string& chunk : chunks) {
    if (record.size() + chunk.size() <= kRecordBytes) {
      record += chunk;
      continue;
    }
    if (!record.empty() && !encrypt(record.data(), record.size())) return fail_write();
    record.clear();
    if (chunk.size() < kRecordBytes) {
      record = chunk;
      continue;
    }
    // A large value goes in slices, each flushed as it is made: the output BIO never holds
    // more than one slice.
    for (size_t at = 0; at < chunk.size(); at += kFlushBytes) {
      if (!encrypt(chunk.data() + at, std::min(kFlushBytes, chunk.size() - at)))
        return fail_write();
    }
  }
  if (!record.empty() && !encrypt(record.data(), record.size())) return fail_write();
  FlushOutput(&out);
  ERR_clear_error();
  return out.empty() ? 0 : inner_->Write(std::move(out), WriteKind::kPlain);
}

void TlsTransport::Close(bool reset) {
  if (!reset && !failed_ && !handshaking_ && ssl_ != nullptr && SSL_is_init_finished(ssl_)) {
    // A graceful end says so in TLS too: our close_notify tells the server that the stream
    // ends here and was not cut short. The server's close_notify is not waited for (nothing
    // more is read from this connection), as RFC 8446 6.1 allows.
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    std::vector<std::string> chunks;
    FlushOutput(&chunks);
    // The socket below takes the bytes before its FIN (the write is queued first); a failure
    // changes nothing: the connection is being closed anyway.
    if (!chunks.empty()) (void)inner_->Write(std::move(chunks), WriteKind::kPlain);
    ERR_clear_error();
  }
  failed_ = true;
  pump_timer_.Stop();
  inner_->Close(reset);
}

}  // namespace ncm::redis
