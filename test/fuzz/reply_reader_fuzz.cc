// libFuzzer harness for RespReader: random bytes in random-size chunks, tight caps.
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//   src/redis/reply_reader.cc test/fuzz/reply_reader_fuzz.cc -lhiredis -o reply_reader_fuzz
#include <cstddef>
#include <cstdint>
#include <memory>

#include "redis/reply_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ncm::redis::ReaderLimits limits;
  limits.max_depth = 32;
  limits.max_elements = 1000;
  limits.max_reply_bytes = 64 * 1024;
  ncm::redis::RespReader reader(limits);
  const size_t chunk = 1 + data[0] % 64;
  ++data;
  --size;
  for (size_t at = 0; at < size; at += chunk) {
    const size_t n = size - at < chunk ? size - at : chunk;
    if (reader.Feed(reinterpret_cast<const char*>(data + at), n) != ncm::redis::ReadStatus::kOk) {
      return 0;
    }
    for (;;) {
      std::unique_ptr<ncm::redis::Reply> reply;
      if (reader.Next(&reply) != ncm::redis::ReadStatus::kOk || !reply) break;
    }
  }
  return 0;
}
