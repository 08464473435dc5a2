// RespReader: hiredis's RESP parser with our own limits on top.
//
// hiredis versions differ in what they guard against (0.14.1 rejects nesting deeper than 7
// but happily allocates 1.9 GB for a `*244444444` header; 1.x accepts deep nesting). We
// replace the reader's object callbacks, so arrays are built by us and never pre-sized from
// the header, and every reply is checked against three caps no matter the hiredis version:
// nesting depth, elements per array (and per reply), and bytes per reply (including bytes
// still buffered for an unfinished reply).
//
// hiredis grows its input buffer by at most 1 MiB per feed. Where realloc copies (always under
// the sanitizers), a bulk string of N MiB fed in socket-sized pieces costs O(N²) bytes of
// copying (minutes for hundreds of MiB). Once hiredis has read the header of a bulk string that
// still misses more than kReserveAbove bytes, its buffer is grown once to hold the rest.
//
// One reader per connection; I/O thread only.
#ifndef NCM_REDIS_REPLY_READER_H_
#define NCM_REDIS_REPLY_READER_H_

#include <hiredis/read.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "redis/reply.h"
#include "redis/reply_buffer_pool.h"

namespace ncm::redis {

struct ReaderLimits {
  uint32_t max_depth = 32;
  uint64_t max_elements = 1'000'000;     // per array and per whole reply
  uint64_t max_reply_bytes = 64u << 20;  // string bytes per reply, and buffered bytes
};

enum class ReadStatus : uint8_t {
  kOk,        // a reply was produced, or more bytes are needed
  kProtocol,  // malformed input or a depth/element cap was hit
  kTooLarge,  // max_reply_bytes was hit
};

class RespReader {
 public:
  // `buffers`, when given, supplies the storage of string replies (reply_buffer_pool.h); it
  // must outlive the reader.
  explicit RespReader(const ReaderLimits& limits, ReplyBufferPool* buffers = nullptr);
  ~RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  // Appends bytes received from the socket.
  ReadStatus Feed(const char* data, size_t length);

  // Takes the next complete reply, if any: returns kOk with `*out` empty when more bytes
  // are needed. After an error the reader is unusable: drop it with the connection.
  ReadStatus Next(std::unique_ptr<Reply>* out);

  // Why the last call failed, for the error message.
  const std::string& error() const { return error_; }

  // Called by the parser callbacks (see reply_reader.cc); public only for them.
  struct Budget {
    ReaderLimits limits;
    uint64_t elements = 0;  // in the reply being parsed
    uint64_t bytes = 0;     // in the reply being parsed
    ReadStatus failure = ReadStatus::kOk;
    std::string reason;
    ReplyBufferPool* buffers = nullptr;
  };

 private:
  ReadStatus Fail(ReadStatus status, std::string message);
  // After a parse that produced nothing: if hiredis waits for the body of a big bulk string,
  // grows its buffer to hold it.
  void ReserveForBigBulk();

  static constexpr uint64_t kReserveAbove = 1u << 20;

  redisReplyObjectFunctions functions_;  // must outlive reader_: hiredis keeps the pointer
  redisReader* reader_ = nullptr;
  Budget budget_;
  std::string error_;
};

}  // namespace ncm::redis

#endif  // NCM_REDIS_REPLY_READER_H_
