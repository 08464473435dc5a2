// libFuzzer target: the RESP reply path (hiredis's parser behind RespReader's caps).
//
// The input is fed in chunks of pseudo-random sizes (derived from the input itself, so a
// crash replays exactly), every complete reply is taken and walked, and the caps are set
// low so the fuzzer reaches them often. The reader must never crash, hang, or hand out a
// reply larger than its caps allow.
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//   src/redis/reply_reader.cc test/fuzz/reply_reader_fuzz.cc -lhiredis -o reply_reader_fuzz
// Run:   ./reply_reader_fuzz test/fuzz/corpus/reply_reader
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "redis/reply.h"
#include "redis/reply_reader.h"

namespace {

constexpr uint32_t kMaxDepth = 8;
constexpr uint64_t kMaxElements = 4096;
constexpr uint64_t kMaxReplyBytes = 1 << 16;

// Returns the number of elements in the tree and checks its depth.
uint64_t Walk(const ncm::redis::Reply& reply, uint32_t depth, uint64_t* bytes) {
  if (depth > kMaxDepth + 1) std::abort();  // the depth cap was bypassed
  *bytes += reply.str.size();
  uint64_t count = 1;
  for (const auto& child : reply.elements) {
    if (!child) std::abort();
    count += Walk(*child, depth + 1, bytes);
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ncm::redis::ReaderLimits limits;
  limits.max_depth = kMaxDepth;
  limits.max_elements = kMaxElements;
  limits.max_reply_bytes = kMaxReplyBytes;
  ncm::redis::RespReader reader(limits);

  uint32_t seed = size > 0 ? data[0] : 1;
  size_t pos = 0;
  while (pos < size) {
    seed = seed * 1103515245u + 12345u;
    const size_t chunk = std::min<size_t>(size - pos, 1 + (seed >> 16) % 97);
    if (reader.Feed(reinterpret_cast<const char*>(data + pos), chunk) !=
        ncm::redis::ReadStatus::kOk) {
      return 0;
    }
    pos += chunk;
    for (;;) {
      std::unique_ptr<ncm::redis::Reply> reply;
      if (reader.Next(&reply) != ncm::redis::ReadStatus::kOk) return 0;
      if (!reply) break;
      uint64_t bytes = 0;
      const uint64_t elements = Walk(*reply, 0, &bytes);
      if (elements > kMaxElements + 1 || bytes > kMaxReplyBytes) std::abort();
    }
  }
  return 0;
}
