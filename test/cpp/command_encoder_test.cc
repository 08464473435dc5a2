// Unit tests of CommandEncoder: exact bytes for known commands, and a round trip of random
// commands through RespReader (an encoded command is a valid RESP array of bulk strings).
#include "redis/command_encoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "redis/reply_reader.h"

namespace ncm::redis {
namespace {

std::string Encode(const std::vector<std::string>& args) {
  size_t payload = 0;
  for (const std::string& a : args) payload += a.size();
  std::string out;
  CommandEncoder encoder(&out, args.size(), payload);
  for (const std::string& a : args) {
    char* dst = encoder.Next(a.size());
    if (!a.empty()) std::memcpy(dst, a.data(), a.size());
    dst[a.size()] = '\0';  // what napi's string copy leaves behind
  }
  EXPECT_TRUE(encoder.Finish());
  return out;
}

TEST(CommandEncoderTest, WritesKnownCommandsExactly) {
  EXPECT_EQ(Encode({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_EQ(Encode({"SET", "", std::string("a\0\r\nb", 5)}),
            std::string("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$5\r\na\0\r\nb\r\n", 30));
  EXPECT_EQ(Encode({}), "*0\r\n");
}

std::string Utf8Of(const std::u16string& text) {
  std::string out(Utf8SizeOfUtf16(text.data(), text.size()), '\0');
  EXPECT_EQ(WriteUtf16AsUtf8(text.data(), text.size(), out.data()), out.size());
  return out;
}

TEST(CommandEncoderTest, WritesUtf16AsV8WritesUtf8) {
  EXPECT_EQ(Utf8Of(u""), "");
  EXPECT_EQ(Utf8Of(u"GET key:1"), "GET key:1");
  EXPECT_EQ(Utf8Of(std::u16string(u"a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(Utf8Of(u"\u00e9\u07ff"), "\xc3\xa9\xdf\xbf");          // 2-byte forms
  EXPECT_EQ(Utf8Of(u"\u0800\uffff"), "\xe0\xa0\x80\xef\xbf\xbf");  // 3-byte forms
  EXPECT_EQ(Utf8Of(u"\U0001F600"), "\xf0\x9f\x98\x80");            // a surrogate pair
  EXPECT_EQ(Utf8Of(u"\U0010FFFF"), "\xf4\x8f\xbf\xbf");
  // Unpaired surrogates (lone high, lone low, high at the end, reversed pair) are U+FFFD.
  const std::u16string lone = {0xD800, u'x', 0xDC00, 0xDC00, 0xD800, 0xD83D};
  EXPECT_EQ(Utf8Of(lone), "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(CommandEncoderTest, Utf16SizeMatchesWhatIsWrittenForRandomText) {
  std::mt19937 random(11);
  for (int round = 0; round < 2000; ++round) {
    std::u16string text(random() % 40, u'\0');
    for (char16_t& c : text) {
      const uint32_t pick = random() % 6;
      c = pick == 0 ? static_cast<char16_t>(0xD800 + random() % 0x800)
                    : static_cast<char16_t>(random() % (pick < 3 ? 0x80 : 0x10000));
    }
    const size_t size = Utf8SizeOfUtf16(text.data(), text.size());
    std::string out(size + 8, '\x55');
    ASSERT_EQ(WriteUtf16AsUtf8(text.data(), text.size(), out.data()), size);
    for (size_t i = size; i < out.size(); ++i) ASSERT_EQ(out[i], '\x55') << "wrote past its size";
  }
}

TEST(CommandEncoderTest, RefusesMoreArgumentsThanAnnouncedAndReportsFewer) {
  std::string out;
  CommandEncoder encoder(&out, 1, 1);
  ASSERT_NE(encoder.Next(1), nullptr);
  EXPECT_EQ(encoder.Next(1), nullptr);
  EXPECT_TRUE(encoder.Finish());

  CommandEncoder short_one(&out, 2, 0);
  ASSERT_NE(short_one.Next(0), nullptr);
  EXPECT_FALSE(short_one.Finish());
}

TEST(CommandEncoderTest, StaysWithinItsBoundAndRoundTripsThroughTheReader) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::string> args(rng() % 12);
    size_t payload = 0;
    for (std::string& a : args) {
      a.resize(rng() % 3 == 0 ? rng() % 5000 : rng() % 20);
      for (char& c : a) c = static_cast<char>(rng());
      payload += a.size();
    }
    const std::string bytes = Encode(args);
    EXPECT_LE(bytes.size(), EncodedCommandBound(args.size(), payload));

    RespReader reader(ReaderLimits{});
    ASSERT_EQ(reader.Feed(bytes.data(), bytes.size()), ReadStatus::kOk);
    std::unique_ptr<Reply> reply;
    ASSERT_EQ(reader.Next(&reply), ReadStatus::kOk);
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->type, ReplyType::kArray);
    ASSERT_EQ(reply->elements.size(), args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      EXPECT_EQ(reply->elements[i]->type, ReplyType::kString);
      EXPECT_EQ(reply->elements[i]->str, args[i]);
    }
    std::unique_ptr<Reply> extra;
    ASSERT_EQ(reader.Next(&extra), ReadStatus::kOk);
    EXPECT_FALSE(extra);
  }
}

}  // namespace
}  // namespace ncm::redis
