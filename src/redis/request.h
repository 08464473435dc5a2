// What crosses between the JS thread and a connection manager's I/O thread: requests go
// in (already RESP-encoded), completions come out. Both move as unique_ptr / by value, so
// each object has exactly one owner at a time.
#ifndef NCM_REDIS_REQUEST_H_
#define NCM_REDIS_REQUEST_H_

#include <cstdint>
#include <memory>
#include <string>

#include "redis/reply.h"

namespace ncm::redis {

// Why a command did not get a reply. The JS layer maps each to a class in lib/errors.js.
enum class ErrorKind : uint8_t {
  kNone = 0,
  kConnection,      // refused, reset, lost, unreachable (errno in `error_errno`)
  kConnectTimeout,  // no connection (or handshake) within connect_timeout_ms
  kTimeout,         // no reply within the command timeout
  kProtocol,        // bytes that are not RESP, or a reader cap was hit
  kReplyTooLarge,   // reply over max_reply_bytes
  kClosed,          // the manager is closing or closed
  kServer,          // the handshake (AUTH/SELECT/CLIENT SETNAME) got an error reply, or the
                    // server refused the connection on accept (maxclients, protected mode)
  kTls,             // the TLS handshake failed or TLS broke (Node's code in `error_errno`)
  kCredentials,     // the credentials provider threw, rejected or gave an unusable value
};

// Who a request is for: a caller, or one of the commands the manager sends on its own behalf.
enum class RequestKind : uint8_t {
  kUser = 0,
  kHandshake,      // AUTH / SELECT / CLIENT SETNAME, all but the last
  kHandshakeLast,  // its reply makes the connection ready
  kPing,           // idle health check
  kQuit,           // graceful close
};

struct Request {
  uint64_t id = 0;
  std::string bytes;        // the encoded RESP request; freed once written
  uint32_t timeout_ms = 0;  // 0 = the manager's default command timeout
  uint8_t flags = 0;        // opaque to the manager, returned with the completion
  // Set by the I/O thread.
  uint64_t deadline_ms = 0;
  uint64_t seq = 0;      // admission order; breaks ties between equal deadlines
  bool tracked = false;  // in a DeadlineIndex
  bool written = false;  // handed to the socket (in flight)
  bool secret = false;   // the bytes hold a password (AUTH): wiped once written
  RequestKind kind = RequestKind::kUser;
};

struct Completion {
  uint64_t id = 0;
  uint8_t flags = 0;
  ErrorKind error = ErrorKind::kNone;
  std::string message;           // when error != kNone
  std::string error_errno;       // e.g. "ECONNREFUSED" for kConnection
  std::unique_ptr<Reply> reply;  // when error == kNone (may itself be an error reply)
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_REQUEST_H_
