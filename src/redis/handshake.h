// Handshake: what a fresh connection says before any caller's command, from the options:
// AUTH (username and password, or password alone), SELECT (db other than 0) and CLIENT
// SETNAME, in that order, each only when it applies (and a PING when asked to confirm and
// nothing else is sent). With a credentials provider, the AUTH of each attempt takes that
// attempt's credentials instead of the options' own. Pure: builds bytes and requests, sends
// nothing. The endpoint writes them alone on a new socket and lets callers' commands follow
// only after the last reply (so nothing runs before AUTH/SELECT succeeded).
//
// Any thread; the requests it builds are then owned by the I/O thread.
#ifndef NCM_REDIS_HANDSHAKE_H_
#define NCM_REDIS_HANDSHAKE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/wipe.h"
#include "redis/credentials.h"
#include "redis/deadline_index.h"
#include "redis/request.h"

namespace ncm::redis {

// The password is wiped when the options go, also after a move.
struct HandshakeOptions {
  HandshakeOptions() = default;
  HandshakeOptions(const HandshakeOptions&) = default;
  HandshakeOptions(HandshakeOptions&&) = default;
  HandshakeOptions& operator=(const HandshakeOptions&) = default;
  HandshakeOptions& operator=(HandshakeOptions&&) = default;
  ~HandshakeOptions() { WipeString(&password); }

  std::string username;  // ACL user; needs a password
  std::string password;  // empty: no AUTH
  uint32_t db = 0;
  std::string client_name;  // empty: no CLIENT SETNAME
  // End with a reply from the server even when nothing else needs saying (a PING): over TLS
  // 1.3 a server refuses a client certificate only after the client's handshake is done, and
  // the connection must not count as ready before that would have arrived.
  bool confirm = false;
};

// The encoded commands, in the order they are sent; empty when nothing needs saying.
std::vector<std::string> HandshakeCommands(const HandshakeOptions& options);

// The same commands as requests: kind kHandshake, the last one kHandshakeLast, no deadline
// of their own (the connect timeout bounds the handshake).
std::deque<std::unique_ptr<Request>> HandshakeRequests(const HandshakeOptions& options);

// The requests of an attempt whose AUTH comes from a credentials provider: `options` with
// `credentials` in place of its username and password (AUTH always goes first). The copies
// of the password made on the way are wiped; the AUTH request's own bytes hold it until
// they are written.
std::deque<std::unique_ptr<Request>> HandshakeRequests(const HandshakeOptions& options,
                                                       const Credentials& credentials);

}  // namespace ncm::redis

#endif  // NCM_REDIS_HANDSHAKE_H_
