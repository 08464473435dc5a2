// Credentials: the username and password a credentials provider (the `credentials` option,
// a JS function) gives for one connect attempt, and its answer as it crosses from the JS
// thread to the I/O thread. The password is wiped when the object goes, also after a move
// (the moved-from string may keep the bytes in its own buffer).
//
// Any thread; one owner at a time (moved, never copied).
#ifndef NCM_REDIS_CREDENTIALS_H_
#define NCM_REDIS_CREDENTIALS_H_

#include <cstdint>
#include <string>

#include "common/wipe.h"

namespace ncm::redis {

struct Credentials {
  std::string username;  // empty: AUTH with the password alone (the default user)
  std::string password;

  Credentials() = default;
  Credentials(Credentials&&) = default;
  Credentials& operator=(Credentials&&) = default;
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  ~Credentials() { WipeString(&password); }
};

// The provider's answer for connect attempt `attempt` (see Endpoint::OnCredentials): the
// credentials when `ok`, otherwise `error`, a message worded for the user (never a secret).
struct CredentialsAnswer {
  uint64_t attempt = 0;
  bool ok = false;
  Credentials credentials;
  std::string error;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_CREDENTIALS_H_
