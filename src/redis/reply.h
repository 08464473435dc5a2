// A parsed RESP2 reply. Built by RespReader on the I/O thread, handed whole to the JS
// thread (ownership moves with the unique_ptr), converted to JS values there.
#ifndef NCM_REDIS_REPLY_H_
#define NCM_REDIS_REPLY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ncm::redis {

enum class ReplyType : uint8_t {
  kNil,
  kStatus,   // +OK
  kError,    // -ERR ...
  kInteger,  // :1
  kString,   // $3\r\nfoo
  kArray,    // *2 ...
};

struct Reply {
  ReplyType type = ReplyType::kNil;
  int64_t integer = 0;
  std::string str;  // status, error and bulk string bytes
  std::vector<std::unique_ptr<Reply>> elements;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_REPLY_H_
