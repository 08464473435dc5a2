// Transport: moves bytes for one connected socket. The endpoint's pipeline (NodeConnection)
// reads and writes through it without knowing what is underneath: plain TCP or a unix
// socket (TcpTransport), or TLS over one of those (TlsTransport).
//
// Loop thread only: a transport runs on the loop it was made on, and calls its listener
// there. A transport may be destroyed at any time on that thread, also from inside one of
// its listener's calls; destroying it closes the socket (FIN) if Close() did not.
#ifndef NCM_REDIS_TRANSPORT_H_
#define NCM_REDIS_TRANSPORT_H_

#include <cstddef>
#include <string>
#include <vector>

namespace ncm::redis {

// What a write carries. kSecret: the bytes hold a password (AUTH); every copy of them the
// transport makes or keeps is wiped once they are handed on (encrypted, or written to the
// socket).
enum class WriteKind : unsigned char { kPlain, kSecret };

// Why a transport stopped working.
struct TransportError {
  enum class Op : unsigned char {
    kRead,   // the stream ended (status UV_EOF) or reading failed
    kWrite,  // a write failed
    kTls,    // the TLS layer failed (a bad record, an alert from the peer): see `detail`
  };
  Op op = Op::kRead;
  int status = 0;      // a libuv error code (kRead, kWrite)
  std::string detail;  // kTls: the reason, worded like Node's TLS errors
  std::string code;    // kTls: Node's code for it, e.g. "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"
};

class Transport {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Bytes received, in order. `data` is valid during the call only.
    virtual void OnTransportRead(const char* data, size_t size) = 0;
    // The transport can no longer be used; nothing is read after this.
    virtual void OnTransportError(const TransportError& error) = 0;
  };

  virtual ~Transport() = default;

  // Starts delivering received bytes to `listener` (once, before any Write).
  virtual void Start(Listener* listener) = 0;

  // Queues `chunks` to be sent in order, in one write. Returns 0, or a libuv error when the
  // write could not even be queued (the listener is not called for that one); a write that
  // fails later is reported through OnTransportError.
  virtual int Write(std::vector<std::string> chunks, WriteKind kind) = 0;

  // Closes the socket now; nothing is delivered afterwards. `reset` aborts the connection
  // (RST) and drops whatever the kernel still holds to send; otherwise it ends with FIN.
  virtual void Close(bool reset) = 0;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_TRANSPORT_H_
