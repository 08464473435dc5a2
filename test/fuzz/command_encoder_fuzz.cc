// libFuzzer target: command encoding (CommandEncoder), checked by reading it back.
//
// The input is cut into arguments (each prefixed by a length byte, so the fuzzer controls
// count and sizes), encoded, then fed to RespReader in pseudo-random chunks. The encoding
// must stay within EncodedCommandBound, and must read back as exactly one array of bulk
// strings equal to the arguments, with nothing left over.
// Build and run: scripts/fuzz.sh
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "redis/command_encoder.h"
#include "redis/reply.h"
#include "redis/reply_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos < size) {
    const size_t want = data[pos++];
    const size_t take = std::min(want, size - pos);
    args.emplace_back(reinterpret_cast<const char*>(data + pos), take);
    pos += take;
  }
  size_t payload = 0;
  for (const std::string& a : args) payload += a.size();

  std::string bytes;
  ncm::redis::CommandEncoder encoder(&bytes, args.size(), payload);
  for (const std::string& a : args) {
    char* dst = encoder.Next(a.size());
    if (dst == nullptr) std::abort();
    if (!a.empty()) std::memcpy(dst, a.data(), a.size());
    dst[a.size()] = '\0';
  }
  if (!encoder.Finish()) std::abort();
  if (bytes.size() > ncm::redis::EncodedCommandBound(args.size(), payload)) std::abort();

  ncm::redis::RespReader reader(ncm::redis::ReaderLimits{});
  std::unique_ptr<ncm::redis::Reply> reply;
  uint32_t seed = static_cast<uint32_t>(size) * 2654435761u;
  size_t at = 0;
  while (at < bytes.size()) {
    seed = seed * 1103515245u + 12345u;
    const size_t chunk = std::min<size_t>(bytes.size() - at, 1 + (seed >> 16) % 61);
    if (reader.Feed(bytes.data() + at, chunk) != ncm::redis::ReadStatus::kOk) std::abort();
    at += chunk;
    std::unique_ptr<ncm::redis::Reply> next;
    if (reader.Next(&next) != ncm::redis::ReadStatus::kOk) std::abort();
    if (next) {
      if (reply || at != bytes.size()) std::abort();  // a reply before the end, or two
      reply = std::move(next);
    }
  }
  if (!reply || reply->type != ncm::redis::ReplyType::kArray) std::abort();
  if (reply->elements.size() != args.size()) std::abort();
  for (size_t i = 0; i < args.size(); ++i) {
    const ncm::redis::Reply& e = *reply->elements[i];
    if (e.type != ncm::redis::ReplyType::kString || e.str != args[i]) std::abort();
  }
  return 0;
}
