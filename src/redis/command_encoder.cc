#include "redis/command_encoder.h"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace ncm::redis {
namespace {

// "*" or "$", up to 20 digits, CRLF.
constexpr size_t kHeaderBound = 1 + 20 + 2;

void AppendHeader(std::string* out, char type, size_t n) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  (void)ec;  // 24 bytes always hold a size_t
  out->push_back(type);
  out->append(digits, end);
  out->append("\r\n", 2);
}

}  // namespace

size_t EncodedCommandBound(size_t count, size_t payload) {
  // Each argument: header + bytes + CRLF; the command: one more header.
  return kHeaderBound + count * (kHeaderBound + 2) + payload;
}

CommandEncoder::CommandEncoder(std::string* out, size_t count, size_t payload)
    : out_(out), count_(count) {
  out_->clear();
  out_->reserve(EncodedCommandBound(count, payload) + 1);
  AppendHeader(out_, '*', count);
}

void CommandEncoder::CloseArgument() {
  if (pending_crlf_ == std::string::npos) return;
  (*out_)[pending_crlf_] = '\r';
  (*out_)[pending_crlf_ + 1] = '\n';
  pending_crlf_ = std::string::npos;
}

char* CommandEncoder::Next(size_t size) {
  if (started_ == count_) return nullptr;
  CloseArgument();
  ++started_;
  AppendHeader(out_, '$', size);
  const size_t at = out_->size();
  out_->resize(at + size + 2);  // the bytes, then the CRLF slot (may hold a NUL until closed)
  pending_crlf_ = at + size;
  return out_->data() + at;
}

bool CommandEncoder::Finish() {
  CloseArgument();
  return started_ == count_;
}

std::string EncodeCommand(std::initializer_list<std::string_view> args) {
  size_t payload = 0;
  for (std::string_view arg : args) payload += arg.size();
  std::string out;
  CommandEncoder encoder(&out, args.size(), payload);
  for (std::string_view arg : args) {
    char* dst = encoder.Next(arg.size());
    if (!arg.empty()) std::memcpy(dst, arg.data(), arg.size());
  }
  encoder.Finish();
  return out;
}

namespace {

bool IsHighSurrogate(char16_t c) { return c >= 0xD800 && c <= 0xDBFF; }
bool IsLowSurrogate(char16_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

}  // namespace

size_t Utf8SizeOfUtf16(const char16_t* text, size_t length) {
  size_t size = 0;
  for (size_t i = 0; i < length; ++i) {
    const char16_t c = text[i];
    if (c < 0x80) {
      size += 1;
    } else if (c < 0x800) {
      size += 2;
    } else if (IsHighSurrogate(c) && i + 1 < length && IsLowSurrogate(text[i + 1])) {
      size += 4;
      ++i;
    } else {
      size += 3;  // the rest of the BMP, and U+FFFD for an unpaired surrogate
    }
  }
  return size;
}

size_t WriteUtf16AsUtf8(const char16_t* text, size_t length, char* dst) {
  char* out = dst;
  for (size_t i = 0; i < length; ++i) {
    uint32_t c = text[i];
    if (c < 0x80) {
      *out++ = static_cast<char>(c);
      continue;
    }
    if (c < 0x800) {
      *out++ = static_cast<char>(0xC0 | (c >> 6));
      *out++ = static_cast<char>(0x80 | (c & 0x3F));
      continue;
    }
    if (IsHighSurrogate(static_cast<char16_t>(c)) && i + 1 < length &&
        IsLowSurrogate(text[i + 1])) {
      c = 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00);
      ++i;
      *out++ = static_cast<char>(0xF0 | (c >> 18));
      *out++ = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      *out++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      *out++ = static_cast<char>(0x80 | (c & 0x3F));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;  // unpaired surrogate
    *out++ = static_cast<char>(0xE0 | (c >> 12));
    *out++ = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (c & 0x3F));
  }
  return static_cast<size_t>(out - dst);
}

}  // namespace ncm::redis
