// libFuzzer target: command encoding (CommandEncoder), checked by reading it back.
//
// The input is cut into arguments (each prefixed by a length byte, so the fuzzer controls
// count and sizes), encoded, then fed to RespReader in pseudo-random chunks. The encoding
// must stay within EncodedCommandBound, and must read back as exactly one array of bulk
// strings equal to the arguments, with nothing left over. The same bytes, read as UTF-16
// code units, go through the UTF-16 → UTF-8 writer (how packed JS strings are encoded):
// it must write exactly the size it announced, and well-formed UTF-8.
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

namespace {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool IsWellFormedUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t c = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0) {
      n = 1;
      c = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2;
      c = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3;
      c = b & 0x07;
    } else
      return false;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      c = (c << 6) | (t & 0x3F);
    }
    const uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

void CheckUtf16Writer(const uint8_t* data, size_t size) {
  std::u16string text(size / 2, u'\0');
  for (size_t i = 0; i < text.size(); ++i) {
    text[i] = static_cast<char16_t>(data[2 * i] | (data[2 * i + 1] << 8));
  }
  const size_t announced = ncm::redis::Utf8SizeOfUtf16(text.data(), text.size());
  if (announced > text.size() * 3) std::abort();
  std::string out(announced + 4, '\x7f');
  if (ncm::redis::WriteUtf16AsUtf8(text.data(), text.size(), out.data()) != announced) std::abort();
  for (size_t i = announced; i < out.size(); ++i) {
    if (out[i] != '\x7f') std::abort();  // wrote past what it announced
  }
  out.resize(announced);
  if (!IsWellFormedUtf8(out)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckUtf16Writer(data, size);
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
