#include "redis/command_encoder.h"

#include <charconv>

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

}  // namespace ncm::redis
