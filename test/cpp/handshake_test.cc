// Unit tests of the handshake: which commands a fresh connection sends, in which order, with
// which bytes (read back through RespReader), for every combination of the options and with
// a credentials provider's answer; and the wiping of the secrets it handles.
#include "redis/handshake.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/wipe.h"
#include "redis/command_encoder.h"
#include "redis/credentials.h"
#include "redis/reply_reader.h"

namespace ncm::redis {
namespace {

// The arguments of one encoded command, parsed back as a RESP array of bulk strings.
std::vector<std::string> Parse(const std::string& bytes) {
  RespReader reader{ReaderLimits{}};
  EXPECT_EQ(reader.Feed(bytes.data(), bytes.size()), ReadStatus::kOk);
  std::unique_ptr<Reply> reply;
  EXPECT_EQ(reader.Next(&reply), ReadStatus::kOk);
  std::vector<std::string> args;
  if (!reply || reply->type != ReplyType::kArray) {
    ADD_FAILURE() << "not an array: " << bytes;
    return args;
  }
  for (const auto& element : reply->elements) {
    EXPECT_EQ(element->type, ReplyType::kString);
    args.push_back(element->str);
  }
  std::unique_ptr<Reply> extra;
  EXPECT_EQ(reader.Next(&extra), ReadStatus::kOk);
  EXPECT_EQ(extra, nullptr) << "more than one command in " << bytes;
  return args;
}

std::vector<std::vector<std::string>> ParseAll(const std::vector<std::string>& commands) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& bytes : commands) out.push_back(Parse(bytes));
  return out;
}

using Commands = std::vector<std::vector<std::string>>;

TEST(HandshakeTest, NothingToSayWithDefaultOptions) {
  EXPECT_TRUE(HandshakeCommands(HandshakeOptions{}).empty());
  EXPECT_TRUE(HandshakeRequests(HandshakeOptions{}).empty());
}

TEST(HandshakeTest, AuthWithPasswordAloneOrWithUser) {
  HandshakeOptions options;
  options.password = "s3cret";
  EXPECT_EQ(ParseAll(HandshakeCommands(options)), (Commands{{"AUTH", "s3cret"}}));
  options.username = "cacheuser";
  EXPECT_EQ(ParseAll(HandshakeCommands(options)), (Commands{{"AUTH", "cacheuser", "s3cret"}}));
}

TEST(HandshakeTest, AUserWithoutPasswordSendsNoAuth) {
  // lib/ refuses this combination; the handshake never sends AUTH without a password.
  HandshakeOptions options;
  options.username = "cacheuser";
  EXPECT_TRUE(HandshakeCommands(options).empty());
}

TEST(HandshakeTest, AuthThenSelectThenSetName) {
  HandshakeOptions options;
  options.username = "u";
  options.password = std::string("p\r\n\0x", 5);  // any byte goes through as it is
  options.db = 7;
  options.client_name = "web-1";
  EXPECT_EQ(ParseAll(HandshakeCommands(options)),
            (Commands{{"AUTH", "u", std::string("p\r\n\0x", 5)},
                      {"SELECT", "7"},
                      {"CLIENT", "SETNAME", "web-1"}}));
}

TEST(HandshakeTest, SelectOnlyForANonZeroDb) {
  HandshakeOptions options;
  options.db = 0;
  EXPECT_TRUE(HandshakeCommands(options).empty());
  options.db = 4294967295u;
  EXPECT_EQ(ParseAll(HandshakeCommands(options)), (Commands{{"SELECT", "4294967295"}}));
}

TEST(HandshakeTest, RequestsCarryTheBytesAndMarkTheLastOne) {
  HandshakeOptions options;
  options.password = "pw";
  options.db = 2;
  options.client_name = "n";
  const std::vector<std::string> commands = HandshakeCommands(options);
  auto requests = HandshakeRequests(options);
  ASSERT_EQ(requests.size(), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i]->bytes, commands[i]);
    EXPECT_EQ(requests[i]->kind,
              i + 1 == requests.size() ? RequestKind::kHandshakeLast : RequestKind::kHandshake);
    EXPECT_EQ(requests[i]->deadline_ms, kNoDeadline);  // the connect timeout bounds them
    EXPECT_EQ(requests[i]->id, 0u);
    EXPECT_EQ(requests[i]->secret, i == 0);  // AUTH, with the options' own password
  }
  options.db = 0;
  options.client_name.clear();
  requests = HandshakeRequests(options);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]->kind, RequestKind::kHandshakeLast);
}

TEST(HandshakeTest, ProviderCredentialsTakeThePlaceOfTheOptionsOwn) {
  HandshakeOptions options;
  options.username = "static-user";
  options.password = "static-pw";
  options.db = 3;
  options.client_name = "web-1";
  options.confirm = true;  // over TLS; AUTH already ends with a reply, so no PING
  Credentials credentials;
  credentials.username = "rotating-user";
  credentials.password = std::string("token\0\r\n", 8);
  auto requests = HandshakeRequests(options, credentials);
  std::vector<std::string> bytes;
  for (const auto& request : requests) bytes.push_back(request->bytes);
  EXPECT_EQ(ParseAll(bytes), (Commands{{"AUTH", "rotating-user", std::string("token\0\r\n", 8)},
                                       {"SELECT", "3"},
                                       {"CLIENT", "SETNAME", "web-1"}}));
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]->kind, RequestKind::kHandshake);
  EXPECT_EQ(requests[2]->kind, RequestKind::kHandshakeLast);
  // Only AUTH holds the password: its bytes are wiped once written.
  EXPECT_TRUE(requests[0]->secret);
  EXPECT_FALSE(requests[1]->secret);
  EXPECT_FALSE(requests[2]->secret);
  // Neither the options nor the credentials are changed.
  EXPECT_EQ(options.username, "static-user");
  EXPECT_EQ(options.password, "static-pw");
  EXPECT_EQ(credentials.password, std::string("token\0\r\n", 8));
}

TEST(HandshakeTest, ProviderCredentialsWithoutUsernameAuthenticateTheDefaultUser) {
  HandshakeOptions options;
  Credentials credentials;
  credentials.password = "only-a-password";
  auto requests = HandshakeRequests(options, credentials);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(Parse(requests[0]->bytes), (std::vector<std::string>{"AUTH", "only-a-password"}));
  EXPECT_EQ(requests[0]->kind, RequestKind::kHandshakeLast);
}

TEST(WipeTest, WipeBytesZeroesEveryByte) {
  char buffer[33];
  for (size_t i = 0; i < sizeof(buffer); ++i) buffer[i] = static_cast<char>('a' + i % 26);
  WipeBytes(buffer, sizeof(buffer));
  for (char c : buffer) EXPECT_EQ(c, 0);
}

// Every byte of the string's buffer, up to its capacity (where old bytes may linger).
bool BufferIsZero(const std::string& text, size_t capacity) {
  const char* data = text.data();
  for (size_t i = 0; i < capacity; ++i) {
    if (data[i] != 0) return false;
  }
  return true;
}

TEST(WipeTest, WipeStringZeroesTheWholeBufferAlsoAfterAShrinkOrAMove) {
  std::string heap(100, 'p');
  heap.resize(10);  // the 90 bytes after the size still hold 'p's
  const size_t heap_capacity = heap.capacity();
  WipeString(&heap);
  EXPECT_TRUE(heap.empty());
  EXPECT_EQ(heap.capacity(), heap_capacity);  // wiped in place, not reallocated
  EXPECT_TRUE(BufferIsZero(heap, heap_capacity));

  // A short string moved from keeps its bytes in its own inline buffer.
  std::string short_secret = "pw-1234";
  std::string moved = std::move(short_secret);
  EXPECT_EQ(moved, "pw-1234");
  const size_t inline_capacity = short_secret.capacity();
  WipeString(&short_secret);
  EXPECT_TRUE(BufferIsZero(short_secret, inline_capacity));
}

TEST(HandshakeTest, InternalCommandsAreEncodedExactly) {
  EXPECT_EQ(EncodeCommand({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(EncodeCommand({"QUIT"}), "*1\r\n$4\r\nQUIT\r\n");
  EXPECT_EQ(EncodeCommand({"SELECT", "12"}), "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n");
  EXPECT_EQ(EncodeCommand({"AUTH", ""}), "*2\r\n$4\r\nAUTH\r\n$0\r\n\r\n");
  EXPECT_EQ(EncodeCommand({}), "*0\r\n");
}

}  // namespace
}  // namespace ncm::redis
