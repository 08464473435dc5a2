// CommandEncoder: writes one Redis command as a RESP array of bulk strings.
//
//   *<count>\r\n  then, per argument,  $<size>\r\n<size bytes>\r\n
//
// The caller knows every argument's size before writing (the N-API layer measures JS
// strings first), so the whole request is reserved once and each argument's bytes are
// written in place: `Next(size)` appends the argument header and returns where its `size`
// bytes go. The byte just after them may be scribbled on (napi writes a NUL terminator
// there); the CRLF that closes an argument is written by the following `Next` or by
// `Finish`. Pure C++, no Node: the fuzz target feeds its output back through RespReader.
#ifndef NCM_REDIS_COMMAND_ENCODER_H_
#define NCM_REDIS_COMMAND_ENCODER_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ncm::redis {

// Bytes of the RESP encoding of a command with `count` arguments totalling `payload` bytes,
// an upper bound (headers are counted at their widest).
size_t EncodedCommandBound(size_t count, size_t payload);

class CommandEncoder {
 public:
  // Starts a command of `count` arguments in `*out` (cleared), reserving
  // EncodedCommandBound(count, payload) bytes.
  CommandEncoder(std::string* out, size_t count, size_t payload);
  CommandEncoder(const CommandEncoder&) = delete;
  CommandEncoder& operator=(const CommandEncoder&) = delete;

  // Appends the next argument's header and returns where its `size` bytes go. Room for one
  // more byte after them is guaranteed. Returns nullptr once `count` arguments were started.
  char* Next(size_t size);

  // Closes the last argument. Returns false unless exactly `count` arguments were written.
  bool Finish();

 private:
  void CloseArgument();

  std::string* out_;
  size_t count_;
  size_t started_ = 0;
  size_t pending_crlf_ = std::string::npos;  // where the last argument's CRLF goes
};

// The whole encoding of a command given as byte strings: for the commands the manager sends
// on its own behalf (AUTH, SELECT, CLIENT SETNAME, PING, QUIT).
std::string EncodeCommand(std::initializer_list<std::string_view> args);

// UTF-16 text (a JS string's code units) as UTF-8, the way V8 writes it: a surrogate pair
// becomes one 4-byte sequence and an unpaired surrogate becomes U+FFFD (EF BF BD).
// Utf8SizeOfUtf16 is the exact number of bytes WriteUtf16AsUtf8 writes.
size_t Utf8SizeOfUtf16(const char16_t* text, size_t length);
size_t WriteUtf16AsUtf8(const char16_t* text, size_t length, char* dst);

}  // namespace ncm::redis

#endif  // NCM_REDIS_COMMAND_ENCODER_H_
