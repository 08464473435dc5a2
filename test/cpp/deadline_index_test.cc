// Unit tests of DeadlineIndex: ordering by deadline then admission, requests without a
// deadline, removal, and the walk over expired entries.
#include "redis/deadline_index.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ncm::redis {
namespace {

std::unique_ptr<Request> At(uint64_t deadline_ms, uint64_t id) {
  auto request = std::make_unique<Request>();
  request->id = id;
  request->deadline_ms = deadline_ms;
  return request;
}

std::vector<uint64_t> Expired(const DeadlineIndex& index, uint64_t now) {
  std::vector<uint64_t> ids;
  index.ForEachExpired(now, [&](const Request& r) { ids.push_back(r.id); });
  return ids;
}

TEST(DeadlineIndexTest, EmptyHasNoDeadline) {
  DeadlineIndex index;
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.Earliest(), kNoDeadline);
  EXPECT_TRUE(Expired(index, kNoDeadline - 1).empty());
}

TEST(DeadlineIndexTest, OrdersByDeadlineThenByAdmission) {
  DeadlineIndex index;
  auto a = At(300, 1);
  auto b = At(100, 2);
  auto c = At(300, 3);
  auto d = At(200, 4);
  for (Request* r : {a.get(), b.get(), c.get(), d.get()}) index.Add(r);
  EXPECT_EQ(index.size(), 4u);
  EXPECT_EQ(index.Earliest(), 100u);
  EXPECT_EQ(Expired(index, 99), std::vector<uint64_t>{});
  EXPECT_EQ(Expired(index, 100), std::vector<uint64_t>{2});
  EXPECT_EQ(Expired(index, 300),
            (std::vector<uint64_t>{2, 4, 1, 3}));  // a before c: admitted first
  EXPECT_TRUE(a->tracked);
  EXPECT_LT(a->seq, c->seq);
}

TEST(DeadlineIndexTest, RequestsWithoutADeadlineAreNotTracked) {
  DeadlineIndex index;
  auto forever = At(kNoDeadline, 1);
  index.Add(forever.get());
  EXPECT_FALSE(forever->tracked);
  EXPECT_TRUE(index.empty());
  index.Remove(forever.get());  // harmless
  EXPECT_TRUE(index.empty());
}

TEST(DeadlineIndexTest, RemoveAndAddAgain) {
  DeadlineIndex index;
  auto a = At(100, 1);
  auto b = At(200, 2);
  index.Add(a.get());
  index.Add(b.get());
  index.Add(a.get());  // already tracked: no second entry
  EXPECT_EQ(index.size(), 2u);
  index.Remove(a.get());
  EXPECT_FALSE(a->tracked);
  EXPECT_EQ(index.Earliest(), 200u);
  index.Remove(a.get());  // not tracked: nothing happens
  EXPECT_EQ(index.size(), 1u);
  a->deadline_ms = 250;
  index.Add(a.get());
  EXPECT_EQ(Expired(index, 1000), (std::vector<uint64_t>{2, 1}));
  index.Remove(b.get());
  index.Remove(a.get());
  EXPECT_TRUE(index.empty());
}

TEST(DeadlineIndexTest, ManyEqualDeadlinesKeepTheirOrder) {
  DeadlineIndex index;
  std::vector<std::unique_ptr<Request>> requests;
  for (uint64_t i = 0; i < 1000; ++i) {
    requests.push_back(At(500, i));
    index.Add(requests.back().get());
  }
  // Remove every third; the rest still come out in admission order.
  std::vector<uint64_t> expected;
  for (uint64_t i = 0; i < 1000; ++i) {
    if (i % 3 == 0) {
      index.Remove(requests[i].get());
    } else {
      expected.push_back(i);
    }
  }
  EXPECT_EQ(Expired(index, 500), expected);
  for (auto& r : requests) index.Remove(r.get());
  EXPECT_TRUE(index.empty());
}

}  // namespace
}  // namespace ncm::redis
