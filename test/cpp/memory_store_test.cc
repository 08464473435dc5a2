// Unit tests of the pure C++ memory store (no Node). Built by CMakeLists.txt, run by
// ctest and by test/native/cpp-core.test.js.
#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace ncm::store {
namespace {

// A fixed "now" an hour ahead of the real clock: Entry::expired treats its argument as a
// possibly lagging reading and asks the precise clock only near the boundary, which then
// agrees that the entry is still alive.
const int64_t kNow = NowMs() + 3'600'000;

Limits SmallLimits() {
  Limits limits;
  limits.max_entries = 100;
  limits.max_bytes = 1 << 20;
  limits.max_value_bytes = 1 << 16;
  limits.max_key_bytes = 256;
  return limits;
}

std::string GetValue(MemoryStore& store, std::string_view key, int64_t now = kNow) {
  std::string out = "<miss>";
  store.Get(key, now, [&](const EntryView& view) { out.assign(view.value); });
  return out;
}

TEST(MemoryStore, SetThenGetReturnsTheBytesTagAndExpiry) {
  MemoryStore store(SmallLimits());
  ASSERT_EQ(store.Set("k", std::string_view("a\0b", 3), 7, true, kNow + 100, kNow), Status::kOk);
  bool seen = false;
  store.Get("k", kNow, [&](const EntryView& view) {
    seen = true;
    EXPECT_EQ(view.value, std::string_view("a\0b", 3));
    EXPECT_EQ(view.tag, 7);
    EXPECT_TRUE(view.is_text);
    EXPECT_EQ(view.expires_at, kNow + 100);
  });
  EXPECT_TRUE(seen);
  EXPECT_EQ(GetValue(store, "other"), "<miss>");
  Stats stats = store.GetStats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.bytes, sizeof(Entry) + 1 + 3);
}

TEST(MemoryStore, ReplacingAKeyKeepsOneEntry) {
  MemoryStore store(SmallLimits());
  store.Set("k", "one", 0, false, 0, kNow);
  store.Set("k", "three", 0, false, 0, kNow);
  EXPECT_EQ(GetValue(store, "k"), "three");
  EXPECT_EQ(store.GetStats().entries, 1u);
  EXPECT_EQ(store.GetStats().bytes, sizeof(Entry) + 1 + 5);
}

TEST(MemoryStore, ExpiredEntriesAreMissesAndCounted) {
  MemoryStore store(SmallLimits());
  store.Set("k", "v", 0, false, kNow + 10, kNow);
  EXPECT_EQ(GetValue(store, "k", kNow + 9), "v");
  EXPECT_EQ(GetValue(store, "k", kNow + 10), "<miss>");
  EXPECT_EQ(store.GetStats().expirations, 1u);
  EXPECT_EQ(store.GetStats().entries, 0u);
  EXPECT_EQ(store.ExpiresAt("k", kNow), -1);
}

TEST(MemoryStore, EntryCountLimitEvicts) {
  MemoryStore store(SmallLimits());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(store.Set("k" + std::to_string(i), "v", 0, false, 0, kNow), Status::kOk);
  }
  EXPECT_EQ(store.GetStats().entries, 100u);
  EXPECT_EQ(store.GetStats().evictions, 900u);
  EXPECT_EQ(GetValue(store, "k999"), "v");
}

TEST(MemoryStore, ByteBudgetIsNeverExceeded) {
  Limits limits = SmallLimits();
  limits.max_entries = 1'000'000;
  limits.max_bytes = 10'000;
  MemoryStore store(limits);
  for (int i = 0; i < 5000; ++i) {
    std::string value(static_cast<size_t>(i % 500), 'x');
    ASSERT_EQ(store.Set("key" + std::to_string(i), value, 0, false, 0, kNow), Status::kOk);
    ASSERT_LE(store.GetStats().bytes, limits.max_bytes);
  }
  EXPECT_GT(store.GetStats().evictions, 0u);
}

TEST(MemoryStore, SizeLimitsRejectWithoutSideEffects) {
  MemoryStore store(SmallLimits());
  store.Set("keep", "v", 0, false, 0, kNow);
  EXPECT_EQ(store.Set(std::string(257, 'k'), "v", 0, false, 0, kNow), Status::kKeyTooLarge);
  EXPECT_EQ(store.Set("k", std::string((1 << 16) + 1, 'v'), 0, false, 0, kNow),
            Status::kValueTooLarge);
  Limits tiny = SmallLimits();
  tiny.max_bytes = 100;
  MemoryStore small(tiny);
  small.Set("keep", "v", 0, false, 0, kNow);
  EXPECT_EQ(small.Set("big", std::string(60, 'v'), 0, false, 0, kNow), Status::kEntryTooLarge);
  EXPECT_EQ(GetValue(small, "keep"), "v");
  EXPECT_EQ(GetValue(store, "keep"), "v");
  EXPECT_EQ(store.GetStats().entries, 1u);
}

TEST(MemoryStore, SieveKeepsAVisitedEntryThroughAScan) {
  MemoryStore store(SmallLimits());
  for (int i = 0; i < 100; ++i) store.Set("warm" + std::to_string(i), "v", 0, false, 0, kNow);
  EXPECT_EQ(GetValue(store, "warm0"), "v");
  for (int i = 0; i < 99; ++i) store.Set("scan" + std::to_string(i), "v", 0, false, 0, kNow);
  EXPECT_EQ(GetValue(store, "warm0"), "v");
  EXPECT_EQ(GetValue(store, "warm1"), "<miss>");
}

uint64_t GenerationOf(MemoryStore& store, std::string_view key) {
  uint64_t generation = 0;
  store.Get(key, kNow, [&](const EntryView& view) { generation = view.generation; });
  return generation;
}

TEST(MemoryStore, BoardRowsFollowTheEntryCarryingEachSlot) {
  std::vector<double> board(2 * 8, -1.0);
  MemoryStore store(SmallLimits());
  store.AttachBoard(board.data(), 8);
  EXPECT_EQ(board[2], 0.0);  // attaching zeroes the rows it does not copy
  store.Set("a", "1", 0, false, 0, kNow);
  store.Set("b", "2", 0, false, 0, kNow);
  const uint64_t ga = GenerationOf(store, "a");
  const uint64_t gb = GenerationOf(store, "b");
  EXPECT_FALSE(store.SetDecodedSlot("a", ga, 8, kNow));      // no row for slot 8
  EXPECT_FALSE(store.SetDecodedSlot("a", ga + 7, 1, kNow));  // not the entry's generation
  ASSERT_TRUE(store.SetDecodedSlot("a", ga, 1, kNow));
  ASSERT_TRUE(store.SetDecodedSlot("b", gb, 2, kNow));
  EXPECT_EQ(board[2], static_cast<double>(ga));
  EXPECT_EQ(board[4], static_cast<double>(gb));

  // An overwrite, a delete and an expiry each clear the row of the entry that goes.
  store.Set("a", "1b", 0, false, 0, kNow);
  EXPECT_EQ(board[2], 0.0);
  EXPECT_TRUE(store.Delete("b", kNow));
  EXPECT_EQ(board[4], 0.0);
  store.Set("c", "3", 0, false, kNow + 10, kNow);
  const uint64_t gc = GenerationOf(store, "c");
  ASSERT_TRUE(store.SetDecodedSlot("c", gc, 3, kNow));
  EXPECT_EQ(board[6], static_cast<double>(gc));
  EXPECT_EQ(GetValue(store, "c", kNow + 20), "<miss>");
  EXPECT_EQ(board[6], 0.0);

  // A bigger board takes the rows over; clearing the slot and emptying the store clear rows.
  const uint64_t ga2 = GenerationOf(store, "a");
  ASSERT_TRUE(store.SetDecodedSlot("a", ga2, 1, kNow));
  std::vector<double> bigger(2 * 16, -1.0);
  store.AttachBoard(bigger.data(), 16);
  EXPECT_EQ(bigger[2], static_cast<double>(ga2));
  EXPECT_EQ(bigger[30], 0.0);
  ASSERT_TRUE(store.SetDecodedSlot("a", ga2, 0, kNow));
  EXPECT_EQ(bigger[2], 0.0);
  ASSERT_TRUE(store.SetDecodedSlot("a", ga2, 9, kNow));
  EXPECT_EQ(bigger[18], static_cast<double>(ga2));
  store.DetachAll();
  EXPECT_EQ(bigger[18], 0.0);
  store.AttachBoard(nullptr, 0);
  store.Set("d", "4", 0, false, 0, kNow);
  EXPECT_FALSE(store.SetDecodedSlot("d", GenerationOf(store, "d"), 1, kNow));  // detached
}

// Fills a 100-entry store with warm0..warm99, gives warm0 decoded slot 1 (reading it once
// natively, as the read that decodes it does), then sets scan0: the hand clears warm0's bit
// and evicts warm1. Every other live entry is then read, so the next eviction walks the
// whole queue and comes back to warm0 with only the board left to speak for it.
uint64_t PrepareHandAtWarm0(MemoryStore& store) {
  for (int i = 0; i < 100; ++i) store.Set("warm" + std::to_string(i), "v", 0, false, 0, kNow);
  const uint64_t g0 = GenerationOf(store, "warm0");
  EXPECT_TRUE(store.SetDecodedSlot("warm0", g0, 1, kNow));
  store.Set("scan0", "v", 0, false, 0, kNow);
  EXPECT_FALSE(store.Has("warm1", kNow));
  for (int i = 2; i < 100; ++i) GetValue(store, "warm" + std::to_string(i));
  GetValue(store, "scan0");
  return g0;
}

TEST(MemoryStore, EvictionSparesAnEntryTheReaderTouchedOnTheBoard) {
  std::vector<double> board(2 * 4, 0.0);  // outlives the store, as its owner must
  MemoryStore store(SmallLimits());       // 100 entries at most
  store.AttachBoard(board.data(), 4);
  const uint64_t g0 = PrepareHandAtWarm0(store);
  board[3] = 1;  // a read served from the decoded copy
  store.Set("scan1", "v", 0, false, 0, kNow);
  EXPECT_TRUE(store.Has("warm0", kNow));
  EXPECT_FALSE(store.Has("warm2", kNow));
  EXPECT_EQ(board[3], 0.0);  // the hand took the touch
  EXPECT_EQ(board[2], static_cast<double>(g0));
  // Untouched, it goes the next time the hand reaches it.
  for (int i = 3; i < 100; ++i) GetValue(store, "warm" + std::to_string(i));
  GetValue(store, "scan0");
  GetValue(store, "scan1");
  store.Set("scan2", "v", 0, false, 0, kNow);
  EXPECT_FALSE(store.Has("warm0", kNow));
  EXPECT_EQ(board[2], 0.0);
}

TEST(MemoryStore, DroppingASlotKeepsTheVisitsItRecorded) {
  std::vector<double> board(2 * 4, 0.0);
  MemoryStore store(SmallLimits());
  store.AttachBoard(board.data(), 4);
  const uint64_t g0 = PrepareHandAtWarm0(store);
  board[3] = 1;
  ASSERT_TRUE(store.SetDecodedSlot("warm0", g0, 0, kNow));  // the touch becomes the bit
  EXPECT_EQ(board[2], 0.0);
  store.Set("scan1", "v", 0, false, 0, kNow);
  EXPECT_TRUE(store.Has("warm0", kNow));
  EXPECT_FALSE(store.Has("warm2", kNow));
}

TEST(MemoryStore, DeletePrefixRemovesOnlyMatchingKeys) {
  MemoryStore store(SmallLimits());
  store.Set("ns:a", "1", 0, false, 0, kNow);
  store.Set("ns:b", "2", 0, false, 0, kNow);
  store.Set("other", "3", 0, false, 0, kNow);
  EXPECT_EQ(store.DeletePrefix("ns:"), 2u);
  EXPECT_EQ(GetValue(store, "other"), "3");
  EXPECT_EQ(store.GetStats().entries, 1u);
}

TEST(MemoryStore, SweepRemovesExpiredEntriesInBoundedSteps) {
  Limits limits = SmallLimits();
  limits.max_entries = 100'000;
  limits.max_bytes = 1ull << 30;
  MemoryStore store(limits);
  for (int i = 0; i < 10'000; ++i) {
    store.Set("k" + std::to_string(i), "v", 0, false, i % 2 ? kNow + 5 : 0, kNow);
  }
  size_t removed = 0;
  size_t steps = 0;
  bool wrapped = false;
  while (!wrapped) {
    removed += store.SweepStep(kNow + 5, 64, &wrapped);
    ++steps;
  }
  EXPECT_EQ(removed, 5000u);
  EXPECT_GT(steps, 10u);  // many short lock holds, not one long one
  EXPECT_EQ(store.GetStats().entries, 5000u);
}

TEST(MemoryStore, DetachAllEmptiesInConstantTime) {
  MemoryStore store(SmallLimits());
  for (int i = 0; i < 50; ++i) store.Set("k" + std::to_string(i), "v", 0, false, 0, kNow);
  std::unique_ptr<DetachedEntries> detached = store.DetachAll();
  EXPECT_EQ(store.GetStats().entries, 0u);
  EXPECT_EQ(store.GetStats().bytes, 0u);
  EXPECT_EQ(GetValue(store, "k1"), "<miss>");
  detached.reset();
  EXPECT_EQ(store.Set("again", "v", 0, false, 0, kNow), Status::kOk);
}

TEST(MemoryStore, CoarseNowStillExpiresExactly) {
  MemoryStore store(SmallLimits());
  const int64_t now = NowMs();
  store.Set("k", "v", 0, false, now - 1, now);
  // A coarse reading may lag; the entry expired 1 ms before the precise clock's now.
  EXPECT_EQ(GetValue(store, "k", now - kCoarseClockSlackMs + 1), "<miss>");
}

TEST(MemoryStore, ConcurrentReadersWritersAndSweeperKeepInvariants) {
  Limits limits = SmallLimits();
  limits.max_entries = 2000;
  limits.max_bytes = 1 << 20;
  MemoryStore store(limits);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  auto worker = [&](int id) {
    for (int i = 0; i < 200'000; ++i) {
      std::string key = "k" + std::to_string((i * 7 + id) % 5000);
      if (i % 3 == 0) {
        store.Set(key, key, 0, false, i % 5 ? 0 : NowMs() + 1, NowMs());
      } else {
        store.Get(key, NowMs(), [&](const EntryView& view) {
          if (view.value != key) wrong.fetch_add(1);
        });
      }
    }
  };
  std::thread sweeper([&] {
    while (!stop.load()) {
      bool wrapped = false;
      store.SweepStep(NowMs(), 128, &wrapped);
    }
  });
  std::thread a(worker, 1);
  std::thread b(worker, 2);
  a.join();
  b.join();
  stop.store(true);
  sweeper.join();
  EXPECT_EQ(wrong.load(), 0);
  Stats stats = store.GetStats();
  EXPECT_LE(stats.entries, limits.max_entries);
  EXPECT_LE(stats.bytes, limits.max_bytes);
}

TEST(MemoryStore, GrowingTheIndexKeepsEveryEntryReachable) {
  Limits limits = SmallLimits();
  limits.max_entries = 1'000'000;
  limits.max_bytes = 1ull << 30;
  MemoryStore store(limits);
  std::vector<bool> deleted(200'000, false);
  // Inserts, deletes and reads interleaved across several incremental resizes.
  for (int i = 0; i < 200'000; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_EQ(store.Set(key, key, 0, false, 0, kNow), Status::kOk);
    if (i % 7 == 0) {
      const int victim = i / 2;
      EXPECT_EQ(store.Delete("k" + std::to_string(victim), kNow), !deleted[victim]);
      deleted[victim] = true;
    }
    if (i % 997 == 0) {
      const int probe = i / 3;
      EXPECT_EQ(GetValue(store, "k" + std::to_string(probe)),
                deleted[probe] ? "<miss>" : "k" + std::to_string(probe));
    }
  }
  size_t present = 0;
  for (int i = 0; i < 200'000; ++i) {
    const std::string key = "k" + std::to_string(i);
    EXPECT_EQ(GetValue(store, key), deleted[i] ? "<miss>" : key);
    if (!deleted[i]) ++present;
  }
  EXPECT_EQ(present, store.GetStats().entries);
  store.Set("expiring", "v", 0, false, kNow + 1, kNow);
  bool wrapped = false;
  size_t removed = 0;
  while (!wrapped) removed += store.SweepStep(kNow + 1, 4096, &wrapped);
  EXPECT_EQ(removed, 1u);  // found wherever the resize had put it
}

TEST(MemoryStore, EvictionWhenEveryEntryWasReadIsBounded) {
  Limits limits = SmallLimits();
  limits.max_entries = 20'000;
  limits.max_bytes = 1ull << 30;
  MemoryStore store(limits);
  for (int i = 0; i < 20'000; ++i) store.Set("k" + std::to_string(i), "v", 0, false, 0, kNow);
  for (int i = 0; i < 20'000; ++i) GetValue(store, "k" + std::to_string(i));
  // Every bit is set; one insert must still evict exactly one entry.
  ASSERT_EQ(store.Set("new", "v", 0, false, 0, kNow), Status::kOk);
  EXPECT_EQ(store.GetStats().evictions, 1u);
  EXPECT_EQ(store.GetStats().entries, 20'000u);
  EXPECT_EQ(GetValue(store, "new"), "v");
}

TEST(MemoryStore, SweepSkipsAStoreWithoutExpiringEntries) {
  MemoryStore store(SmallLimits());
  for (int i = 0; i < 50; ++i) store.Set("k" + std::to_string(i), "v", 0, false, 0, kNow);
  bool wrapped = false;
  EXPECT_EQ(store.SweepStep(kNow, 1, &wrapped), 0u);
  EXPECT_TRUE(wrapped);  // one call, no bucket walk
  store.Set("t", "v", 0, false, kNow + 1, kNow);
  store.Delete("t", kNow);
  EXPECT_EQ(store.SweepStep(kNow + 10, 1, &wrapped), 0u);
  EXPECT_TRUE(wrapped);
}

}  // namespace
}  // namespace ncm::store
