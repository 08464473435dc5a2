// Unit tests of ReplyBufferPool (reply string storage handed back for reuse) and of RespReader
// taking its string storage from one. Built by CMakeLists.txt (target reply_buffer_pool_test).
#include "redis/reply_buffer_pool.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "redis/reply_reader.h"

namespace ncm::redis {
namespace {

std::string WithCapacity(size_t capacity) {
  std::string s;
  s.reserve(capacity);
  s.assign(10, 'x');
  return s;
}

TEST(ReplyBufferPoolTest, AnEmptyPoolGivesAnEmptyString) {
  ReplyBufferPool pool;
  std::string s = pool.Take();
  EXPECT_TRUE(s.empty());
}

TEST(ReplyBufferPoolTest, AGivenBufferIsTakenAgainEmpty) {
  ReplyBufferPool pool;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(4096));
  const char* storage = spent[0].data();
  pool.Give(&spent);
  std::string s = pool.Take();
  EXPECT_TRUE(s.empty());
  EXPECT_GE(s.capacity(), 4096u);
  EXPECT_EQ(s.data(), storage);
  EXPECT_LT(pool.Take().capacity(), 4096u);  // nothing left
}

TEST(ReplyBufferPoolTest, KeepsOnlyBuffersWorthKeeping) {
  ReplyBufferPool pool;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(ReplyBufferPool::kMinBuffer / 2));
  spent.push_back(WithCapacity(ReplyBufferPool::kMaxBuffer * 2));
  pool.Give(&spent);
  EXPECT_LT(pool.Take().capacity(), ReplyBufferPool::kMinBuffer);
}

TEST(ReplyBufferPoolTest, HoldsAtMostMaxBytes) {
  ReplyBufferPool pool;
  const size_t each = 8192;
  const size_t offered = 2 * ReplyBufferPool::kMaxBytes / each;
  std::vector<std::string> spent;
  for (size_t i = 0; i < offered; ++i) spent.push_back(WithCapacity(each));
  pool.Give(&spent);
  size_t kept = 0;
  while (pool.Take().capacity() >= each) ++kept;
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept * each, ReplyBufferPool::kMaxBytes + each);
  EXPECT_LT(kept, offered);
}

TEST(ReplyBufferPoolTest, TheReaderStoresLongStringsInPooledBuffers) {
  ReplyBufferPool pool;
  std::vector<std::string> spent;
  spent.push_back(WithCapacity(8192));
  const char* storage = spent[0].data();
  pool.Give(&spent);
  RespReader reader(ReaderLimits{}, &pool);
  const std::string value(5000, 'v');
  const std::string bytes = "$5000\r\n" + value + "\r\n$3\r\nabc\r\n";
  ASSERT_EQ(reader.Feed(bytes.data(), bytes.size()), ReadStatus::kOk);
  std::unique_ptr<Reply> reply;
  ASSERT_EQ(reader.Next(&reply), ReadStatus::kOk);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->str, value);
  EXPECT_EQ(reply->str.data(), storage);
  ASSERT_EQ(reader.Next(&reply), ReadStatus::kOk);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->str, "abc");  // short: not from the pool
}

// One thread takes and fills buffers (the parser), another reads and gives them back (the JS
// thread), as in a client under load; run under ThreadSanitizer by scripts/test-tsan.sh.
TEST(ReplyBufferPoolTest, ParserAndConverterThreadsShareThePool) {
  ReplyBufferPool pool;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> handed;  // filled by the parser, read by the converter
  bool done = false;
  const int kCount = 20000;
  std::thread converter([&] {
    int seen = 0;
    int wrong = 0;
    while (true) {
      std::vector<std::string> batch;
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return done || !handed.empty(); });
        if (handed.empty() && done) break;
        while (!handed.empty()) {
          batch.push_back(std::move(handed.front()));
          handed.pop_front();
        }
      }
      for (const std::string& s : batch) {
        if (s != std::string(1000 + seen % 3000, static_cast<char>('a' + seen % 26))) ++wrong;
        ++seen;
      }
      pool.Give(&batch);
    }
    EXPECT_EQ(seen, kCount);
    EXPECT_EQ(wrong, 0);
  });
  for (int i = 0; i < kCount; ++i) {
    std::string s = pool.Take();
    EXPECT_TRUE(s.empty());
    s.assign(1000 + i % 3000, static_cast<char>('a' + i % 26));
    std::lock_guard<std::mutex> lock(mutex);
    handed.push_back(std::move(s));
    ready.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    ready.notify_one();
  }
  converter.join();
}

}  // namespace
}  // namespace ncm::redis
