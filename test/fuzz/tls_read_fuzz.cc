// Fuzz target for the TLS read path (TlsTransport over memory BIOs): a real TLS server (an
// in-process OpenSSL SSL with a self-signed certificate) handshakes with a TlsTransport and
// then sends the input's payload; every byte the server sends, handshake included, reaches
// the transport in pieces whose sizes the input chooses (down to one byte at a time, so
// records are split at every position), and the input may change one byte of the stream.
// The plaintext that comes out must be exactly what the server wrote, or, after a changed
// byte, a prefix of it followed by a TLS error: never a crash, a hang or a wrong byte.
//
// Built and run by scripts/fuzz.sh (clang, libFuzzer + ASan + UBSan, the system's OpenSSL).
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <uv.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "redis/tls_context.h"
#include "redis/tls_transport.h"

namespace {

using ncm::redis::Failure;
using ncm::redis::TlsContext;
using ncm::redis::TlsOptions;
using ncm::redis::TlsTransport;
using ncm::redis::Transport;
using ncm::redis::TransportError;

// The socket under the TLS transport: what it writes goes to the server, what the server
// sends is handed in by the harness.
class FakeSocket : public Transport {
 public:
  void Start(Listener* listener) override { listener_ = listener; }
  int Write(std::vector<std::string> chunks, ncm::redis::WriteKind) override {
    for (const std::string& chunk : chunks) to_server_ += chunk;
    return 0;
  }
  void Close(bool) override { closed_ = true; }

  Listener* listener_ = nullptr;
  std::string to_server_;
  bool closed_ = false;
};

class Sink : public Transport::Listener, public TlsTransport::HandshakeListener {
 public:
  void OnTransportRead(const char* data, size_t size) override { plain_.append(data, size); }
  void OnTransportError(const TransportError&) override { failed_ = true; }
  void OnTlsHandshake(TlsTransport*, const Failure* failure) override {
    (failure == nullptr ? handshake_done_ : handshake_failed_) = true;
  }

  std::string plain_;
  bool failed_ = false;
  bool handshake_done_ = false;
  bool handshake_failed_ = false;
};

struct Fixture {
  uv_loop_t loop;
  SSL_CTX* server_ctx = nullptr;
  std::shared_ptr<const TlsContext> client;
};

Fixture* fixture = nullptr;

// A self-signed P-256 certificate for the server.
SSL_CTX* MakeServerContext() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

// Hands `bytes` to the transport in pieces of sizes the input picks (1..max_piece).
void Deliver(FakeSocket* socket, const std::string& bytes, FuzzedDataProvider* input,
             size_t max_piece) {
  size_t at = 0;
  while (at < bytes.size() && socket->listener_ != nullptr && !socket->closed_) {
    size_t piece = input->remaining_bytes() > 0
                       ? input->ConsumeIntegralInRange<size_t>(1, max_piece)
                       : bytes.size() - at;
    if (piece > bytes.size() - at) piece = bytes.size() - at;
    socket->listener_->OnTransportRead(bytes.data() + at, piece);
    at += piece;
  }
}

std::string Drain(BIO* bio) {
  std::string out;
  char buf[4096];
  int n;
  while ((n = BIO_read(bio, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture = new Fixture();  // lives for the whole run
  uv_loop_init(&fixture->loop);
  fixture->server_ctx = MakeServerContext();
  TlsOptions options;
  options.reject_unauthorized = false;  // the server's certificate is self-signed
  std::string error;
  fixture->client = TlsContext::Create(options, &error);
  if (!fixture->client) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const bool tls12 = input.ConsumeBool();
  const size_t max_piece = input.ConsumeIntegralInRange<size_t>(1, 300);

  SSL* server = SSL_new(fixture->server_ctx);
  BIO* server_in = BIO_new(BIO_s_mem());
  BIO* server_out = BIO_new(BIO_s_mem());
  SSL_set_bio(server, server_in, server_out);
  SSL_set_accept_state(server);
  SSL_set_max_proto_version(server, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);

  auto owned_socket = std::make_unique<FakeSocket>();
  FakeSocket* socket = owned_socket.get();
  auto tls = std::make_unique<TlsTransport>(&fixture->loop, fixture->client,
                                            std::move(owned_socket), "localhost");
  Sink sink;
  Failure failure;
  if (!tls->StartHandshake(&sink, &failure)) std::abort();

  // The handshake, both ways, the server's flights cut into pieces.
  for (int round = 0; round < 16 && !sink.handshake_done_ && !sink.handshake_failed_; ++round) {
    BIO_write(server_in, socket->to_server_.data(), static_cast<int>(socket->to_server_.size()));
    socket->to_server_.clear();
    SSL_do_handshake(server);
    Deliver(socket, Drain(server_out), &input, max_piece);
  }
  if (!sink.handshake_done_) std::abort();  // a clean handshake cannot fail
  tls->Start(&sink);
  BIO_write(server_in, socket->to_server_.data(), static_cast<int>(socket->to_server_.size()));
  socket->to_server_.clear();

  // The payload, in records of sizes the input picks; then maybe one changed byte.
  const std::string payload =
      input.ConsumeBytesAsString(input.ConsumeIntegralInRange<size_t>(0, 40000));
  for (size_t at = 0; at < payload.size();) {
    size_t record = input.remaining_bytes() > 0 ? input.ConsumeIntegralInRange<size_t>(1, 20000)
                                                : payload.size() - at;
    if (record > payload.size() - at) record = payload.size() - at;
    if (SSL_write(server, payload.data() + at, static_cast<int>(record)) <= 0) std::abort();
    at += record;
  }
  std::string stream = Drain(server_out);  // also the TLS 1.3 session tickets
  const bool corrupt = !stream.empty() && input.ConsumeBool();
  if (corrupt) {
    const size_t position = input.ConsumeIntegral<uint32_t>() % stream.size();
    stream[position] =
        static_cast<char>(stream[position] ^ (input.ConsumeIntegralInRange<int>(1, 255)));
  }
  Deliver(socket, stream, &input, max_piece);
  uv_run(&fixture->loop, UV_RUN_NOWAIT);  // a delivery Start() may have scheduled

  if (!corrupt) {
    if (sink.failed_ || sink.plain_ != payload) std::abort();
  } else if (sink.plain_.size() > payload.size() ||
             payload.compare(0, sink.plain_.size(), sink.plain_) != 0) {
    std::abort();  // a changed byte must never come out as a wrong byte
  }

  tls.reset();
  SSL_free(server);
  ERR_clear_error();
  uv_run(&fixture->loop, UV_RUN_DEFAULT);  // the timer handles' close callbacks
  return 0;
}
