// Google Benchmark programs for the memory store core (src/store), without Node: the cost
// of the store itself, below the N-API layer and the JS codecs. The JS benchmarks
// (bench/js) measure what an application sees.
//
// Multi-threaded cases share one store (one mutex), so they show lock contention. Each
// fixture builds its store on thread 0 in SetUp; Google Benchmark holds every thread at a
// barrier until all have reached the timed loop, so the others see the finished store in
// the loop, but not before it: code ahead of the loop must not read the fixture.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/memory_store.h"

namespace ncm::store {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // a fixed clock: the store alone is timed

std::vector<std::string> MakeKeys(size_t n, std::string_view prefix) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) keys.push_back(std::string(prefix) + std::to_string(i));
  return keys;
}

// A random visiting order, different for each thread.
std::vector<uint32_t> MakeOrder(size_t n, size_t length, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(n - 1));
  std::vector<uint32_t> order(length);
  for (auto& i : order) i = pick(gen);
  return order;
}

Limits EntryLimit(uint64_t max_entries) {
  Limits limits;
  limits.max_entries = max_entries;
  limits.max_bytes = 64ull << 30;  // only the entry count binds
  return limits;
}

void FailUnless(benchmark::State& state, Status status) {
  if (status != Status::kOk) state.SkipWithError(StatusName(status));
}

constexpr size_t kOrderLength = 1 << 16;

// A store holding range(0) entries with range(1)-byte values.
class FilledStore : public benchmark::Fixture {
 public:
  void SetUp(const benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    const size_t n = static_cast<size_t>(state.range(0));
    store_ = std::make_unique<MemoryStore>(EntryLimit(n * 2));
    keys_ = MakeKeys(n, "key:");
    absent_ = MakeKeys(4096, "absent:");
    value_.assign(static_cast<size_t>(state.range(1)), 'v');
    for (const auto& key : keys_) store_->Set(key, value_, 2, false, 0, kNow);
  }

  void TearDown(const benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    store_.reset();
    keys_.clear();
    absent_.clear();
  }

 protected:
  std::unique_ptr<MemoryStore> store_;
  std::vector<std::string> keys_;
  std::vector<std::string> absent_;
  std::string value_;
};

BENCHMARK_DEFINE_F(FilledStore, GetHit)(benchmark::State& state) {
  const auto order =
      MakeOrder(static_cast<size_t>(state.range(0)), kOrderLength, 17 + state.thread_index());
  size_t pos = 0;
  size_t found = 0;
  for (auto _ : state) {
    const bool hit =
        store_->Get(keys_[order[pos++ & (kOrderLength - 1)]], kNow,
                    [&](const EntryView& view) { benchmark::DoNotOptimize(view.value.data()); });
    found += hit;
  }
  if (found != static_cast<size_t>(state.iterations())) state.SkipWithError("a get missed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_REGISTER_F(FilledStore, GetHit)
    ->ArgNames({"entries", "value_bytes"})
    ->Args({10'000, 64})
    ->Args({1'000'000, 64})
    ->Args({10'000, 4096})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

BENCHMARK_DEFINE_F(FilledStore, GetMiss)(benchmark::State& state) {
  size_t pos = state.thread_index() * 1000;
  for (auto _ : state) {
    const bool hit = store_->Get(absent_[pos++ & 4095], kNow, [](const EntryView&) {});
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_REGISTER_F(FilledStore, GetMiss)
    ->ArgNames({"entries", "value_bytes"})
    ->Args({10'000, 64})
    ->Args({1'000'000, 64})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// Overwrites existing keys: allocate + copy + unlink the old entry, no eviction.
BENCHMARK_DEFINE_F(FilledStore, SetOverwrite)(benchmark::State& state) {
  const auto order =
      MakeOrder(static_cast<size_t>(state.range(0)), kOrderLength, 29 + state.thread_index());
  size_t pos = 0;
  for (auto _ : state) {
    FailUnless(state,
               store_->Set(keys_[order[pos++ & (kOrderLength - 1)]], value_, 2, false, 0, kNow));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(1));
}
BENCHMARK_REGISTER_F(FilledStore, SetOverwrite)
    ->ArgNames({"entries", "value_bytes"})
    ->Args({10'000, 64})
    ->Args({10'000, 4096})
    ->Args({1'000'000, 64})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// Eviction under pressure: a full store of range(0) entries receives new keys only, so
// every set evicts one entry. range(1) = 1 marks every resident entry visited first (the
// SIEVE hand must then clear bits along the queue before it finds a victim: its worst
// case, amortized over the following sets).
void BM_SetEvict(benchmark::State& state) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  const bool all_visited = state.range(1) != 0;
  MemoryStore store(EntryLimit(capacity));
  const std::string value(64, 'v');
  const auto keys = MakeKeys(capacity * 4, "key:");
  size_t next = 0;
  for (; next < capacity; ++next) store.Set(keys[next], value, 2, false, 0, kNow);
  if (all_visited) {
    for (size_t i = 0; i < capacity; ++i) store.Get(keys[i], kNow, [](const EntryView&) {});
  }
  for (auto _ : state) {
    FailUnless(state, store.Set(keys[next], value, 2, false, 0, kNow));
    if (++next == keys.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["evictions"] = static_cast<double>(store.GetStats().evictions);
}
BENCHMARK(BM_SetEvict)
    ->ArgNames({"capacity", "all_visited"})
    ->Args({10'000, 0})
    ->Args({10'000, 1})
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 1});

// The single slowest set SIEVE can produce: every resident entry was read since the hand
// last passed, so the hand walks (and clears) the whole queue before it finds a victim,
// with the store's lock held. Only that one set is timed per iteration.
void BM_SetEvictWorstCase(benchmark::State& state) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  MemoryStore store(EntryLimit(capacity));
  const std::string value(64, 'v');
  const auto keys = MakeKeys(capacity * 2, "key:");
  for (size_t i = 0; i < capacity; ++i) store.Set(keys[i], value, 2, false, 0, kNow);
  size_t next = capacity;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < keys.size(); ++i) store.Get(keys[i], kNow, [](const EntryView&) {});
    state.ResumeTiming();
    FailUnless(state, store.Set(keys[next], value, 2, false, 0, kNow));
    if (++next == keys.size()) next = 0;
  }
}
BENCHMARK(BM_SetEvictWorstCase)
    ->ArgNames({"capacity"})
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(20)
    ->Unit(benchmark::kMicrosecond);

// The set that makes the hash index grow: with range(0) entries in a table of as many
// buckets, the next insert rehashes every entry into a table twice the size, with the lock
// held. Only that one set is timed.
void BM_SetTriggersGrowth(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const auto keys = MakeKeys(n + 1, "key:");
  const std::string value(16, 'v');
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<MemoryStore>(EntryLimit(n * 4));
    for (size_t i = 0; i < n; ++i) store->Set(keys[i], value, 2, false, 0, kNow);
    state.ResumeTiming();
    FailUnless(state, store->Set(keys[n], value, 2, false, 0, kNow));
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_SetTriggersGrowth)
    ->ArgNames({"entries"})
    ->Arg(1 << 16)
    ->Arg(1 << 20)
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);

// Eviction driven by the byte budget: 4 KiB values into a 4 MiB store.
void BM_SetEvictBytes(benchmark::State& state) {
  Limits limits;
  limits.max_entries = 1ull << 30;
  limits.max_bytes = 4ull << 20;
  MemoryStore store(limits);
  const std::string value(4096, 'v');
  const auto keys = MakeKeys(1 << 16, "key:");
  size_t next = 0;
  for (auto _ : state) {
    FailUnless(state, store.Set(keys[next++ & 0xffff], value, 2, false, 0, kNow));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_SetEvictBytes);

constexpr size_t kChurnCapacity = 100'000;
constexpr size_t kChurnKeys = 400'000;

// Mixed churn from two threads: each does get, then set on a miss, over 4x more keys than
// the store holds.
class ChurnStore : public benchmark::Fixture {
 public:
  void SetUp(const benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    store_ = std::make_unique<MemoryStore>(EntryLimit(kChurnCapacity));
    keys_ = MakeKeys(kChurnKeys, "key:");
  }
  void TearDown(const benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    store_.reset();
    keys_.clear();
  }

 protected:
  std::unique_ptr<MemoryStore> store_;
  std::vector<std::string> keys_;
};

BENCHMARK_DEFINE_F(ChurnStore, GetOrSet)(benchmark::State& state) {
  const auto order = MakeOrder(kChurnKeys, kOrderLength, 41 + state.thread_index());
  const std::string value(64, 'v');
  size_t pos = 0;
  for (auto _ : state) {
    const std::string& key = keys_[order[pos++ & (kOrderLength - 1)]];
    if (!store_->Get(key, kNow, [](const EntryView&) {})) {
      FailUnless(state, store_->Set(key, value, 2, false, 0, kNow));
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_REGISTER_F(ChurnStore, GetOrSet)->Threads(1)->Threads(2)->UseRealTime();

// One step of the expiry sweep (the unit of work the background sweep does per lock hold)
// over a store of range(0) entries. range(1) = 0: nothing has expired (the step only
// scans); 1: everything has expired (the step frees what it finds; the store is refilled,
// untimed, whenever a pass empties it).
void BM_SweepStep(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const bool expired = state.range(1) != 0;
  constexpr size_t kBucketsPerStep = 2048;  // as in src/napi/memory_store_wrap.cc
  MemoryStore store(EntryLimit(n));
  const auto keys = MakeKeys(n, "key:");
  const std::string value(64, 'v');
  const int64_t expires_at = expired ? kNow - 1 : kNow + 3'600'000;
  auto fill = [&] {
    for (const auto& key : keys) store.Set(key, value, 2, false, expires_at, kNow - 2);
  };
  fill();
  size_t removed = 0;
  for (auto _ : state) {
    bool wrapped = false;
    removed += store.SweepStep(kNow, kBucketsPerStep, &wrapped);
    if (expired && store.GetStats().entries == 0) {
      state.PauseTiming();
      fill();
      state.ResumeTiming();
    }
  }
  state.counters["removed_per_step"] =
      benchmark::Counter(static_cast<double>(removed) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_SweepStep)
    ->ArgNames({"entries", "all_expired"})
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ncm::store

BENCHMARK_MAIN();
