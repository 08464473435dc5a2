// The off-heap memory store: a hash index plus a SIEVE eviction queue, bounded by entry
// count and by bytes, with per-entry expiry (lazy on access, plus a bounded sweep that a
// background thread may run).
//
// Thread safety: every public method may be called from any thread; one mutex guards the
// whole store. The JS thread does O(1) work per call; the sweep and the freeing of a large
// `DetachAll()` run elsewhere and hold the lock only for bounded steps.
#ifndef NCM_STORE_MEMORY_STORE_H_
#define NCM_STORE_MEMORY_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "common/status.h"
#include "store/entry.h"
#include "store/eviction_policy.h"
#include "store/hash_index.h"

namespace ncm::store {

struct Limits {
  uint64_t max_entries = 1000000;
  uint64_t max_bytes = 256ull << 20;  // counted as key + value + per-entry overhead
  uint64_t max_value_bytes = 64ull << 20;
  uint64_t max_key_bytes = 64ull << 10;
};

struct Stats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t sets = 0;
  uint64_t deletes = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

// What a reader sees of an entry while the store's lock is held.
struct EntryView {
  std::string_view value;
  int64_t expires_at;  // epoch ms, 0 = never
  uint8_t tag;
  bool is_text;
  bool is_ascii;          // text made only of ASCII bytes: readers may skip UTF-8 decoding
  bool was_visited;       // read before since the eviction hand last passed it
  uint64_t generation;    // the write that made the entry (see Entry::generation)
  uint32_t decoded_slot;  // see Entry::decoded_slot
};

// Entries removed from the store in one O(1) step by `DetachAll()`. Destroying it frees
// them; that may take a while for millions of entries, so callers may destroy it off the
// JS thread.
class DetachedEntries {
 public:
  explicit DetachedEntries(Entry* oldest) : oldest_(oldest) {}
  DetachedEntries(const DetachedEntries&) = delete;
  DetachedEntries& operator=(const DetachedEntries&) = delete;
  ~DetachedEntries();

 private:
  Entry* oldest_;  // the chain continues through Entry::newer
};

class MemoryStore {
 public:
  explicit MemoryStore(const Limits& limits);
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;
  ~MemoryStore();

  const Limits& limits() const { return limits_; }

  // Stores a copy of `value` under `key`, evicting as needed. `expires_at` is epoch ms
  // (0 = never). Fails without changing anything when a size limit is exceeded.
  Status Set(std::string_view key, std::string_view value, uint8_t tag, bool is_text,
             int64_t expires_at, int64_t now);

  // Like Set, but `fill(char* dst)` writes the `value_len` value bytes straight into the new
  // entry (dst has room for value_len + 1 bytes) before the lock is taken; `fill` returns
  // false to abandon the write (kAborted, nothing changed). Saves a copy for large values.
  template <typename Fill>
  Status SetFilled(std::string_view key, size_t value_len, uint8_t tag, bool is_text,
                   int64_t expires_at, int64_t now, Fill&& fill) {
    Status status = CheckSizes(key.size(), value_len);
    if (status != Status::kOk) return status;
    Entry* fresh = Entry::Allocate(key, value_len, HashIndex::Hash(key));
    if (fresh == nullptr) return Status::kEntryTooLarge;
    if (!fill(fresh->mutable_value_data())) {
      Entry::Destroy(fresh);
      return Status::kAborted;
    }
    return InsertFresh(fresh, tag, is_text, expires_at, now);
  }

  // Calls `visit(const EntryView&)` with the lock held when `key` is live; returns whether
  // it was. `visit` must not call back into the store.
  template <typename Visitor>
  bool Get(std::string_view key, int64_t now, Visitor&& visit) {
    const uint32_t hash = HashIndex::Hash(key);
    std::lock_guard<std::mutex> lock(mutex_);
    Entry* e = FindLiveLocked(key, hash, now);
    if (e == nullptr) {
      ++stats_.misses;
      return false;
    }
    ++stats_.hits;
    const bool was_visited = (e->flags & Entry::kVisited) != 0;
    SievePolicy::TouchLocked(e);
    visit(EntryView{e->value(), e->expires_at, e->tag, (e->flags & Entry::kText) != 0,
                    (e->flags & Entry::kAscii) != 0, was_visited, e->generation(),
                    e->decoded_slot});
    return true;
  }

  // Records where a reader keeps a decoded copy of the live entry `key`, if that entry is
  // still the one made by write `generation`; returns whether it was. 0 clears the hint. A
  // slot the board (see AttachBoard) has no row for is refused.
  bool SetDecodedSlot(std::string_view key, uint64_t generation, uint32_t slot, int64_t now);

  // The board: a table of `slots` rows of two doubles that a reader on another thread reads
  // without taking the lock, so that it can serve a decoded copy without calling in. Row
  // `s` (a decoded slot, 1-based; row 0 is unused) holds [generation, touched]: the
  // generation of the live entry whose decoded slot is `s`, or 0 once that entry is gone or
  // its slot cleared; `touched` is set to non-zero by the reader on each read it serves from
  // its copy, and the eviction hand counts it as a visit (then resets it). Rows of the
  // previous board are copied over; nullptr detaches. The caller keeps `rows` alive until it
  // is detached or replaced. Stores are relaxed atomics: the reader only ever needs to see
  // a removal before its next read, which the JS thread's own calls into the store order.
  void AttachBoard(double* rows, uint32_t slots);

  // Live-entry check; does not count as a hit or miss and does not mark the entry visited.
  bool Has(std::string_view key, int64_t now);

  // Expiry of a live entry: epoch ms, 0 = never, -1 = no such entry.
  int64_t ExpiresAt(std::string_view key, int64_t now);

  // Returns whether a live entry was removed.
  bool Delete(std::string_view key, int64_t now);

  // Removes every entry whose key starts with `prefix`; returns how many. O(n).
  size_t DeletePrefix(std::string_view prefix);

  // Empties the store in O(1); the caller frees the result when and where it likes.
  std::unique_ptr<DetachedEntries> DetachAll();

  // One bounded step of the expiry sweep: examines up to `max_buckets` buckets from where
  // the last step stopped. Returns the number of entries removed; sets `*wrapped` when the
  // step reached the end of the table.
  size_t SweepStep(int64_t now, size_t max_buckets, bool* wrapped);

  Stats GetStats();

 private:
  Status CheckSizes(size_t key_len, size_t value_len) const;
  // Takes ownership of `fresh` (key and value already written) and links it in.
  Status InsertFresh(Entry* fresh, uint8_t tag, bool is_text, int64_t expires_at, int64_t now);
  Entry* FindLiveLocked(std::string_view key, uint32_t hash, int64_t now);
  void RemoveLocked(Entry* e);
  void BoardWriteLocked(uint32_t slot, uint64_t generation);
  // Whether the reader touched `e`'s row since the last call; resets the mark.
  bool BoardTakeTouchLocked(const Entry* e);
  bool MakeRoomLocked(uint64_t incoming_bytes);

  const Limits limits_;
  std::mutex mutex_;
  HashIndex index_;
  SievePolicy policy_;
  Stats stats_;
  uint64_t entries_with_expiry_ = 0;  // lets the sweep skip stores that use no TTLs
  uint64_t next_generation_ = 1;      // 0 is never handed out: readers use it for "none"
  size_t sweep_cursor_ = 0;
  double* board_ = nullptr;
  uint32_t board_slots_ = 0;
};

}  // namespace ncm::store

#endif  // NCM_STORE_MEMORY_STORE_H_
