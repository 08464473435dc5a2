#include "redis/reply_reader.h"

// hiredis 0.14's sds.h declares its functions without C linkage: include it as C first.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/hiredis.h>  // HIREDIS_MAJOR

#include <type_traits>
#include <utility>

namespace ncm::redis {
namespace {

using Budget = RespReader::Budget;

// hiredis 1.x (Homebrew, vcpkg, Alpine) passes an array's length as size_t and adds RESP3
// callbacks; 0.14 (Debian) passes an int. read.h alone tells them apart: only 1.x defines the
// RESP3 reply types.
#ifdef REDIS_REPLY_DOUBLE
using ArrayLength = size_t;
#else
using ArrayLength = int;
#endif

template <typename T>
bool IsNegative(T value) {
  if constexpr (std::is_signed_v<T>) {
    return value < 0;
  } else {
    return false;
  }
}

// The root task carries the reader's privdata in every hiredis version; nested tasks only
// in some, so walk up to the root.
Budget* BudgetOf(const redisReadTask* task, uint32_t* depth) {
  uint32_t d = 0;
  while (task->parent != nullptr) {
    task = task->parent;
    ++d;
  }
  *depth = d;
  return static_cast<Budget*>(task->privdata);
}

bool Refuse(Budget* budget, ReadStatus status, std::string reason) {
  if (budget->failure == ReadStatus::kOk) {
    budget->failure = status;
    budget->reason = std::move(reason);
  }
  return false;
}

// Counts one more value against the reply's budget; false when a cap is hit.
bool Charge(Budget* budget, uint32_t depth, uint64_t bytes) {
  if (depth > budget->limits.max_depth) {
    return Refuse(budget, ReadStatus::kProtocol,
                  "reply nested deeper than " + std::to_string(budget->limits.max_depth));
  }
  if (++budget->elements > budget->limits.max_elements) {
    return Refuse(
        budget, ReadStatus::kProtocol,
        "reply has more than " + std::to_string(budget->limits.max_elements) + " elements");
  }
  budget->bytes += bytes;
  if (budget->bytes > budget->limits.max_reply_bytes) {
    return Refuse(budget, ReadStatus::kTooLarge,
                  "reply larger than maxReplyBytes (" +
                      std::to_string(budget->limits.max_reply_bytes) + " bytes)");
  }
  return true;
}

// Hands a new value to hiredis. The C callback interface needs raw pointers: a nested value
// is owned by its parent array at once; the root is owned by hiredis until Next() takes it
// back (or FreeObject frees it on error).
void* Attach(const redisReadTask* task, std::unique_ptr<Reply> reply) {
  Reply* raw = reply.get();
  if (task->parent != nullptr) {
    auto* parent = static_cast<Reply*>(task->parent->obj);
    parent->elements.push_back(std::move(reply));
  } else {
    reply.release();  // owned by hiredis (see above)
  }
  return raw;
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  uint32_t depth;
  Budget* budget = BudgetOf(task, &depth);
  // hiredis hands a bulk string out once `len` bytes and the two after them are buffered,
  // but never looks at those two. Anything but CRLF there means the stream lost its framing
  // (bytes inserted into or cut from a value): refuse it rather than deliver a wrong value.
  if (task->type == REDIS_REPLY_STRING && (str[len] != '\r' || str[len + 1] != '\n')) {
    Refuse(budget, ReadStatus::kProtocol, "bulk string not followed by CRLF");
    return nullptr;
  }
  if (!Charge(budget, depth, len)) return nullptr;
  auto reply = std::make_unique<Reply>();
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      reply->type = ReplyType::kError;
      break;
    case REDIS_REPLY_STATUS:
      reply->type = ReplyType::kStatus;
      break;
    case REDIS_REPLY_STRING:
      reply->type = ReplyType::kString;
      break;
    default:  // RESP3 verbatim strings and big numbers (hiredis 1.x): we speak RESP2
      Refuse(budget, ReadStatus::kProtocol,
             "RESP3 reply type " + std::to_string(task->type) + " on a RESP2 connection");
      return nullptr;
  }
  if (budget->buffers != nullptr && ReplyBufferPool::Pooled(len)) {
    reply->str = budget->buffers->Take();
  }
  reply->str.assign(str, len);
  return Attach(task, std::move(reply));
}

void* CreateArray(const redisReadTask* task, ArrayLength elements) {
  uint32_t depth;
  Budget* budget = BudgetOf(task, &depth);
  if (task->type != REDIS_REPLY_ARRAY) {  // RESP3 maps, sets, pushes (hiredis 1.x)
    Refuse(budget, ReadStatus::kProtocol,
           "RESP3 reply type " + std::to_string(task->type) + " on a RESP2 connection");
    return nullptr;
  }
  if (!Charge(budget, depth + 1, 0)) return nullptr;
  if (IsNegative(elements) || static_cast<uint64_t>(elements) > budget->limits.max_elements ||
      budget->elements + static_cast<uint64_t>(elements) > budget->limits.max_elements + 1) {
    Refuse(budget, ReadStatus::kProtocol,
           "array header announces " + std::to_string(elements) + " elements (cap " +
               std::to_string(budget->limits.max_elements) + ")");
    return nullptr;
  }
  auto reply = std::make_unique<Reply>();
  reply->type = ReplyType::kArray;
  // Never trust the header for the allocation size: grow as elements actually arrive.
  reply->elements.reserve(elements < 1024 ? elements : 1024);
  return Attach(task, std::move(reply));
}

void* CreateInteger(const redisReadTask* task, long long value) {  // NOLINT(runtime/int)
  uint32_t depth;
  Budget* budget = BudgetOf(task, &depth);
  if (!Charge(budget, depth, 0)) return nullptr;
  auto reply = std::make_unique<Reply>();
  reply->type = ReplyType::kInteger;
  reply->integer = value;
  return Attach(task, std::move(reply));
}

void* CreateNil(const redisReadTask* task) {
  uint32_t depth;
  Budget* budget = BudgetOf(task, &depth);
  if (!Charge(budget, depth, 0)) return nullptr;
  return Attach(task, std::make_unique<Reply>());
}

#ifdef REDIS_REPLY_DOUBLE
// RESP3 doubles and booleans (hiredis 1.x): never sent on a RESP2 connection.
void* CreateDouble(const redisReadTask* task, double, char*, size_t) {
  uint32_t depth;
  Refuse(BudgetOf(task, &depth), ReadStatus::kProtocol, "RESP3 double on a RESP2 connection");
  return nullptr;
}

void* CreateBool(const redisReadTask* task, int) {
  uint32_t depth;
  Refuse(BudgetOf(task, &depth), ReadStatus::kProtocol, "RESP3 boolean on a RESP2 connection");
  return nullptr;
}
#endif

// hiredis frees only roots (an unfinished one on error); children go with their parent.
void FreeObject(void* object) { std::unique_ptr<Reply> owned(static_cast<Reply*>(object)); }

}  // namespace

RespReader::RespReader(const ReaderLimits& limits, ReplyBufferPool* buffers) {
  budget_.limits = limits;
  budget_.buffers = buffers;
  functions_ = {};
  functions_.createString = CreateString;
  functions_.createArray = CreateArray;
  functions_.createInteger = CreateInteger;
  functions_.createNil = CreateNil;
#ifdef REDIS_REPLY_DOUBLE
  functions_.createDouble = CreateDouble;
  functions_.createBool = CreateBool;
#endif
  functions_.freeObject = FreeObject;
  reader_ = redisReaderCreateWithFunctions(&functions_);
  if (reader_ != nullptr) reader_->privdata = &budget_;
}

RespReader::~RespReader() {
  if (reader_ != nullptr) redisReaderFree(reader_);
}

ReadStatus RespReader::Fail(ReadStatus status, std::string message) {
  error_ = std::move(message);
  return status;
}

ReadStatus RespReader::Feed(const char* data, size_t length) {
  if (reader_ == nullptr) return Fail(ReadStatus::kProtocol, "out of memory for the reader");
  if (reader_->err != 0) return Fail(ReadStatus::kProtocol, reader_->errstr);
  // Bytes of an unfinished reply wait in hiredis's buffer: cap them too, so a bulk header
  // announcing gigabytes cannot make us buffer gigabytes.
  const uint64_t buffered = reader_->len - reader_->pos;
  if (buffered + length > budget_.limits.max_reply_bytes + 64 * 1024) {
    return Fail(ReadStatus::kTooLarge, "reply larger than maxReplyBytes (" +
                                           std::to_string(budget_.limits.max_reply_bytes) +
                                           " bytes)");
  }
  if (redisReaderFeed(reader_, data, length) != REDIS_OK) {
    return Fail(ReadStatus::kProtocol, reader_->errstr);
  }
  return ReadStatus::kOk;
}

void RespReader::ReserveForBigBulk() {
  if (reader_->ridx < 0) return;
#if HIREDIS_MAJOR >= 1
  const redisReadTask* task = reader_->task[reader_->ridx];
#else
  const redisReadTask* task = &reader_->rstack[reader_->ridx];
#endif
  if (task == nullptr || task->type != REDIS_REPLY_STRING) return;
  // hiredis has taken the '$' and waits at the length line for the whole body: read the line.
  const char* line = reader_->buf + reader_->pos;
  const size_t available = reader_->len - reader_->pos;
  uint64_t body = 0;
  size_t digits = 0;
  for (; digits < available && digits < 19 && line[digits] >= '0' && line[digits] <= '9';
       digits++) {
    body = body * 10 + static_cast<uint64_t>(line[digits] - '0');
  }
  if (digits == 0 || digits + 1 >= available || line[digits] != '\r' || line[digits + 1] != '\n') {
    return;
  }
  const uint64_t whole = digits + 2 + body + 2;  // length line, body, CRLF
  if (whole <= available || whole - available <= kReserveAbove) return;
  // Never past the cap: Feed refuses a reply that outgrows it anyway.
  if (whole > budget_.limits.max_reply_bytes + 64 * 1024) return;
  // The buffer may already hold room (a previous reserve); sdsMakeRoomFor keeps it then.
  char* grown = sdsMakeRoomFor(reader_->buf, static_cast<size_t>(whole - available));
  if (grown != nullptr) reader_->buf = grown;  // on failure hiredis keeps growing as before
}

ReadStatus RespReader::Next(std::unique_ptr<Reply>* out) {
  out->reset();
  if (reader_ == nullptr) return Fail(ReadStatus::kProtocol, "out of memory for the reader");
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    if (budget_.failure != ReadStatus::kOk) return Fail(budget_.failure, budget_.reason);
    return Fail(ReadStatus::kProtocol, reader_->errstr);
  }
  if (raw == nullptr) {
    ReserveForBigBulk();
    return ReadStatus::kOk;
  }
  out->reset(static_cast<Reply*>(raw));
  budget_.elements = 0;
  budget_.bytes = 0;
  return ReadStatus::kOk;
}

}  // namespace ncm::redis
