// Unit tests of RespReader (the capped hiredis reader): no Node, no network, no libuv.
// Built by CMakeLists.txt (target reply_reader_test, run by ctest); by hand:
//   g++ -std=c++20 -Isrc src/redis/reply_reader.cc test/cpp/reply_reader_test.cc
//     -lgtest -lgtest_main -lhiredis -lpthread
#include "redis/reply_reader.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

namespace ncm::redis {
namespace {

ReadStatus FeedAll(RespReader* reader, const std::string& bytes,
                   std::vector<std::unique_ptr<Reply>>* out) {
  ReadStatus status = reader->Feed(bytes.data(), bytes.size());
  while (status == ReadStatus::kOk) {
    std::unique_ptr<Reply> reply;
    status = reader->Next(&reply);
    if (!reply) break;
    out->push_back(std::move(reply));
  }
  return status;
}

TEST(RespReaderTest, ParsesEveryRespTwoType) {
  static const char kBytes[] = "+OK\r\n-ERR bad\r\n:42\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n:1\r\n*0\r\n";
  RespReader reader(ReaderLimits{});
  std::vector<std::unique_ptr<Reply>> replies;
  ASSERT_EQ(FeedAll(&reader, std::string(kBytes, sizeof(kBytes) - 1), &replies), ReadStatus::kOk);
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0]->type, ReplyType::kStatus);
  EXPECT_EQ(replies[1]->type, ReplyType::kError);
  EXPECT_EQ(replies[1]->str, "ERR bad");
  EXPECT_EQ(replies[2]->integer, 42);
  EXPECT_EQ(replies[3]->str, std::string("a\0b", 3));
  EXPECT_EQ(replies[4]->type, ReplyType::kNil);
  ASSERT_EQ(replies[5]->elements.size(), 2u);
  EXPECT_EQ(replies[5]->elements[1]->type, ReplyType::kArray);
}

TEST(RespReaderTest, BulkStringMustEndWithCrlf) {
  // Bytes inserted into a value shift its end: the reader must refuse, not deliver "abcX".
  for (const char* bad : {"$3\r\nabcX\r\n", "$3\r\nab\r\n\r\n", "*1\r\n$1\r\nxyz\r\n"}) {
    RespReader reader(ReaderLimits{});
    std::vector<std::unique_ptr<Reply>> replies;
    EXPECT_EQ(FeedAll(&reader, bad, &replies), ReadStatus::kProtocol) << bad;
    EXPECT_TRUE(replies.empty()) << bad;
    EXPECT_NE(reader.error().find("CRLF"), std::string::npos) << reader.error();
  }
  RespReader reader(ReaderLimits{});
  std::vector<std::unique_ptr<Reply>> replies;
  EXPECT_EQ(FeedAll(&reader, std::string("$0\r\n\r\n$2\r\n\r\n\r\n"), &replies), ReadStatus::kOk);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0]->str, "");
  EXPECT_EQ(replies[1]->str, "\r\n");
}

TEST(RespReaderTest, RespThreeTypesAreAProtocolError) {
  // We speak RESP2. hiredis 0.14 does not know these type bytes; 1.x parses them and calls
  // callbacks of ours that refuse them. Either way: an error, never a value of an unknown kind.
  for (const char* resp3 :
       {",1.5\r\n", "#t\r\n", "%1\r\n+a\r\n+b\r\n", "~1\r\n:1\r\n", ">2\r\n+message\r\n+x\r\n",
        "=7\r\ntxt:abc\r\n", "(12345\r\n", "*1\r\n#f\r\n"}) {
    RespReader reader(ReaderLimits{});
    std::vector<std::unique_ptr<Reply>> replies;
    EXPECT_EQ(FeedAll(&reader, resp3, &replies), ReadStatus::kProtocol) << resp3;
    EXPECT_TRUE(replies.empty()) << resp3;
  }
}

TEST(RespReaderTest, HugeArrayHeaderIsAnErrorNotAnAllocation) {
  RespReader reader(ReaderLimits{});
  std::vector<std::unique_ptr<Reply>> replies;
  EXPECT_EQ(FeedAll(&reader, "*244444444\r\n", &replies), ReadStatus::kProtocol);
  EXPECT_NE(reader.error().find("244444444"), std::string::npos);
}

TEST(RespReaderTest, ElementCapCountsTheWholeReply) {
  ReaderLimits limits;
  limits.max_elements = 10;
  RespReader reader(limits);
  std::vector<std::unique_ptr<Reply>> replies;
  // 3 arrays of 4 integers: each array fits, the reply does not.
  std::string bytes = "*3\r\n";
  for (int i = 0; i < 3; ++i) bytes += "*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n";
  EXPECT_EQ(FeedAll(&reader, bytes, &replies), ReadStatus::kProtocol);
}

TEST(RespReaderTest, DepthCapAndDeepInputNeverCrash) {
  ReaderLimits limits;
  limits.max_depth = 3;
  RespReader reader(limits);
  std::vector<std::unique_ptr<Reply>> replies;
  std::string deep;
  for (int i = 0; i < 2'000'000; ++i) deep += "*1\r\n";
  EXPECT_EQ(FeedAll(&reader, deep.substr(0, 64 * 1024), &replies), ReadStatus::kProtocol);
}

TEST(RespReaderTest, ReplyBytesCapIncludesBufferedBytes) {
  ReaderLimits limits;
  limits.max_reply_bytes = 1024;
  RespReader reader(limits);
  std::vector<std::unique_ptr<Reply>> replies;
  EXPECT_EQ(FeedAll(&reader, "$1000000\r\n" + std::string(200 * 1024, 'x'), &replies),
            ReadStatus::kTooLarge);
  RespReader strings(limits);
  replies.clear();
  std::string many = "*3\r\n";
  for (int i = 0; i < 3; ++i) many += "$500\r\n" + std::string(500, 'y') + "\r\n";
  EXPECT_EQ(FeedAll(&strings, many, &replies), ReadStatus::kTooLarge);
}

TEST(RespReaderTest, SameRepliesWhateverTheChunking) {
  std::string stream;
  for (int i = 0; i < 200; ++i) {
    stream += "*2\r\n$" + std::to_string(i) + "\r\n" + std::string(i, 'z') +
              "\r\n:" + std::to_string(i) + "\r\n";
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    RespReader reader(ReaderLimits{});
    std::vector<std::unique_ptr<Reply>> replies;
    size_t at = 0;
    while (at < stream.size()) {
      size_t n = std::min<size_t>(stream.size() - at, 1 + rng() % 37);
      ASSERT_EQ(FeedAll(&reader, stream.substr(at, n), &replies), ReadStatus::kOk);
      at += n;
    }
    ASSERT_EQ(replies.size(), 200u);
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(replies[i]->elements[0]->str.size(), static_cast<size_t>(i));
      EXPECT_EQ(replies[i]->elements[1]->integer, i);
    }
  }
}

// Bulk strings above the reserve threshold (the buffer is grown once for the body), alone and
// inside an array, with the length line split across feeds and other replies around them:
// every byte comes out in place, and the cap still holds for a body that outgrows it.
TEST(RespReaderTest, BigBulkStringsComeOutExactWhateverTheChunking) {
  const size_t big = (3u << 20) + 17;
  std::string body(big, '\0');
  for (size_t i = 0; i < big; ++i) body[i] = static_cast<char>('a' + i % 23);
  const std::string stream = ":1\r\n$" + std::to_string(big) + "\r\n" + body + "\r\n*3\r\n:2\r\n$" +
                             std::to_string(big) + "\r\n" + body + "\r\n+OK\r\n$2\r\nhi\r\n";
  for (size_t piece : {size_t{1} << 12, size_t{65536} + 3, size_t{1} << 20}) {
    RespReader reader(ReaderLimits{});
    std::vector<std::unique_ptr<Reply>> replies;
    // The first cut falls inside the first length line.
    ASSERT_EQ(FeedAll(&reader, stream.substr(0, 7), &replies), ReadStatus::kOk);
    for (size_t at = 7; at < stream.size(); at += piece) {
      ASSERT_EQ(FeedAll(&reader, stream.substr(at, piece), &replies), ReadStatus::kOk);
    }
    ASSERT_EQ(replies.size(), 4u) << "piece " << piece;
    EXPECT_EQ(replies[0]->integer, 1);
    EXPECT_TRUE(replies[1]->str == body) << "piece " << piece;
    ASSERT_EQ(replies[2]->elements.size(), 3u);
    EXPECT_EQ(replies[2]->elements[0]->integer, 2);
    EXPECT_TRUE(replies[2]->elements[1]->str == body) << "piece " << piece;
    EXPECT_EQ(replies[2]->elements[2]->type, ReplyType::kStatus);
    EXPECT_EQ(replies[3]->str, "hi");
  }
  ReaderLimits limits;
  limits.max_reply_bytes = 2u << 20;
  RespReader capped(limits);
  std::vector<std::unique_ptr<Reply>> replies;
  ReadStatus status = FeedAll(&capped, "$" + std::to_string(big) + "\r\n", &replies);
  for (size_t at = 0; status == ReadStatus::kOk && at < big; at += 65536) {
    status = FeedAll(&capped, body.substr(at, 65536), &replies);
  }
  EXPECT_EQ(status, ReadStatus::kTooLarge);
  EXPECT_TRUE(replies.empty());
}

}  // namespace
}  // namespace ncm::redis
