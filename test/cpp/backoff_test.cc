// Unit tests of Backoff: the exponential steps, the cap, the jitter range, the time an
// attempt already spent, and the reset after a success.
#include "redis/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>

namespace ncm::redis {
namespace {

TEST(BackoffTest, StepsDoubleUpToTheCapWithJitterInTheUpperHalf) {
  for (uint64_t seed : {1ull, 42ull, 0xdeadbeefull, 0ull}) {
    Backoff backoff(50, 1000, seed);
    const uint64_t steps[] = {50, 100, 200, 400, 800, 1000, 1000, 1000};
    for (uint64_t step : steps) {
      const uint64_t delay = backoff.NextDelay(0);
      EXPECT_GE(delay, step / 2) << "seed " << seed << " step " << step;
      EXPECT_LE(delay, step) << "seed " << seed << " step " << step;
    }
    EXPECT_EQ(backoff.failures(), 8u);
  }
}

TEST(BackoffTest, JitterSpreadsDelays) {
  // A fleet that failed together must not retry together: across seeds the first delay
  // takes many values in [25, 50].
  std::set<uint64_t> seen;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Backoff backoff(50, 1000, seed * 0x9E3779B97F4A7C15ull);
    seen.insert(backoff.NextDelay(0));
  }
  EXPECT_GT(seen.size(), 10u);
  EXPECT_GE(*seen.begin(), 25u);
  EXPECT_LE(*seen.rbegin(), 50u);
}

TEST(BackoffTest, TimeAlreadyWaitedCountsTowardTheStep) {
  Backoff a(1000, 1000, 7);
  Backoff b(1000, 1000, 7);  // same seed, same jitter
  const uint64_t full = a.NextDelay(0);
  EXPECT_EQ(b.NextDelay(300), full - 300);
  // An attempt that waited out a whole step (a connect timeout) retries at once.
  Backoff c(50, 1000, 7);
  EXPECT_EQ(c.NextDelay(1000), 0u);
}

TEST(BackoffTest, ImmediateRetryOnlyAfterASuccess) {
  Backoff backoff(50, 2000, 3);
  // A working connection was lost: reconnect at once, counted as the first failure.
  EXPECT_TRUE(backoff.TakeImmediateRetry());
  EXPECT_EQ(backoff.failures(), 1u);
  // That reconnect failed too: the next wait is the second step, and no more at-once retry.
  EXPECT_FALSE(backoff.TakeImmediateRetry());
  const uint64_t delay = backoff.NextDelay(0);
  EXPECT_GE(delay, 50u);
  EXPECT_LE(delay, 100u);
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0u);
  EXPECT_TRUE(backoff.TakeImmediateRetry());
}

TEST(BackoffTest, ResetStartsTheStepsOver) {
  Backoff backoff(50, 1000, 9);
  for (int i = 0; i < 10; ++i) backoff.NextDelay(0);
  EXPECT_GE(backoff.NextDelay(0), 500u);
  backoff.Reset();
  EXPECT_LE(backoff.NextDelay(0), 50u);
}

TEST(BackoffTest, NoOverflowAfterManyFailures) {
  Backoff backoff(50, 2000, 5);
  uint64_t largest = 0;
  for (int i = 0; i < 100000; ++i) largest = std::max(largest, backoff.NextDelay(0));
  EXPECT_LE(largest, 2000u);
  EXPECT_GE(largest, 1000u);
}

}  // namespace
}  // namespace ncm::redis
