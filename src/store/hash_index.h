// Chained hash index over entries. Chains run through Entry::chain_next, so the index
// itself costs one pointer per bucket. It doubles at load factor 1, incrementally: the old
// bucket array is drained a few buckets per insert (as Redis's dict does), so no single
// call pays for rehashing a million entries (measured: ~100 ms at 1M entries when done at
// once, all of it on the JS thread with the store's lock held).
//
// Not thread-safe: the owning MemoryStore calls every method with its mutex held.
#ifndef NCM_STORE_HASH_INDEX_H_
#define NCM_STORE_HASH_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

#include "store/entry.h"

namespace ncm::store {

// A zero-filled array of bucket heads from calloc: for large tables the kernel hands out
// zero pages lazily, so creating a 16 MiB array costs no up-front page faults (a zeroing
// std::vector made a resize at 1M entries take ~27 ms).
class BucketArray {
 public:
  BucketArray() = default;
  explicit BucketArray(size_t size)
      : data_(static_cast<Entry**>(std::calloc(size, sizeof(Entry*)))), size_(data_ ? size : 0) {}
  bool ok() const { return data_ != nullptr; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Entry*& operator[](size_t i) { return data_.get()[i]; }
  Entry* operator[](size_t i) const { return data_.get()[i]; }
  void swap(BucketArray& other) noexcept {
    data_.swap(other.data_);
    std::swap(size_, other.size_);
  }

 private:
  struct Free {
    void operator()(Entry** p) const { std::free(p); }
  };
  std::unique_ptr<Entry*[], Free> data_;
  size_t size_ = 0;
};

class HashIndex {
 public:
  static constexpr size_t kInitialBuckets = 64;
  // Old buckets moved per insert while a resize is under way. The old array has S
  // buckets and the next resize is S inserts away, so 16 per insert finishes in time.
  static constexpr size_t kMigrateStep = 16;

  HashIndex() : buckets_(kInitialBuckets) {}

  // 32 bits: enough to pick among up to 2^32 buckets, and half the room in every entry.
  static uint32_t Hash(std::string_view key) {
    const uint64_t h = std::hash<std::string_view>{}(key);
    return static_cast<uint32_t>(h ^ (h >> 32));
  }

  Entry* FindLocked(std::string_view key, uint32_t hash) const {
    for (Entry* e = buckets_[hash & (buckets_.size() - 1)]; e != nullptr; e = e->chain_next) {
      if (e->hash == hash && e->key() == key) return e;
    }
    if (!old_.empty()) {
      for (Entry* e = old_[hash & (old_.size() - 1)]; e != nullptr; e = e->chain_next) {
        if (e->hash == hash && e->key() == key) return e;
      }
    }
    return nullptr;
  }

  void InsertLocked(Entry* e) {
    if (!old_.empty()) {
      MigrateLocked(kMigrateStep);
    } else if (size_ >= buckets_.size()) {
      BucketArray bigger(buckets_.size() * 2);
      if (bigger.ok()) {  // out of memory: stay at the current size, chains get longer
        old_.swap(buckets_);
        buckets_.swap(bigger);
        migrated_ = 0;
        MigrateLocked(kMigrateStep);
      }
    }
    Entry*& slot = buckets_[e->hash & (buckets_.size() - 1)];
    e->chain_next = slot;
    slot = e;
    ++size_;
  }

  void EraseLocked(Entry* e) {
    Entry** link = &buckets_[e->hash & (buckets_.size() - 1)];
    while (*link != nullptr && *link != e) link = &(*link)->chain_next;
    if (*link == nullptr) {  // not moved yet: still in the old array
      link = &old_[e->hash & (old_.size() - 1)];
      while (*link != e) link = &(*link)->chain_next;
    }
    *link = e->chain_next;
    e->chain_next = nullptr;
    --size_;
  }

  // Drops every bucket (the entries are owned and freed by the caller).
  void ResetLocked() {
    BucketArray fresh(kInitialBuckets);
    if (fresh.ok()) {
      buckets_.swap(fresh);
    } else {
      for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] = nullptr;
    }
    BucketArray().swap(old_);
    migrated_ = 0;
    size_ = 0;
  }

  size_t size() const { return size_; }

  // Bucket-by-bucket iteration for the expiry sweep: the new array, then what is left of
  // the old one. An entry moved during a pass may be skipped by it (lazy expiry still
  // catches it); none is visited twice in a way that matters, since visiting is read-only
  // until the caller removes an expired entry.
  size_t bucket_count() const { return buckets_.size() + old_.size(); }
  Entry* bucket(size_t i) const {
    return i < buckets_.size() ? buckets_[i] : old_[i - buckets_.size()];
  }

 private:
  void MigrateLocked(size_t steps) {
    const size_t mask = buckets_.size() - 1;
    while (steps-- > 0 && migrated_ < old_.size()) {
      Entry* head = old_[migrated_];
      old_[migrated_++] = nullptr;
      while (head != nullptr) {
        Entry* following = head->chain_next;
        Entry*& slot = buckets_[head->hash & mask];
        head->chain_next = slot;
        slot = head;
        head = following;
      }
    }
    if (migrated_ == old_.size()) BucketArray().swap(old_);
  }

  BucketArray buckets_;
  BucketArray old_;      // non-empty while a resize is under way
  size_t migrated_ = 0;  // old buckets already moved
  size_t size_ = 0;
};

}  // namespace ncm::store

#endif  // NCM_STORE_HASH_INDEX_H_
