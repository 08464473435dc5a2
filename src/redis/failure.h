// Why a connection, an attempt or a request failed, as the units of the Redis layer report it
// to each other and as it ends up in a Completion: the kind (mapped to an error class in
// lib/errors.js), a message worded for the user and, for system errors, the errno name.
#ifndef NCM_REDIS_FAILURE_H_
#define NCM_REDIS_FAILURE_H_

#include <string>

#include "redis/request.h"

namespace ncm::redis {

struct Failure {
  ErrorKind kind = ErrorKind::kConnection;
  std::string message;  // e.g. "connect ECONNREFUSED 127.0.0.1:6399: connection refused"
  std::string err;      // e.g. "ECONNREFUSED"; empty when there is no errno
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_FAILURE_H_
