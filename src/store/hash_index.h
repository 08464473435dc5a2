// Chained hash index over entries. Chains run through Entry::chain_next, so the index
// itself costs one pointer per bucket. Grows by doubling at load factor 1.
//
// Not thread-safe: the owning MemoryStore calls every method with its mutex held.
#ifndef NCM_STORE_HASH_INDEX_H_
#define NCM_STORE_HASH_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "store/entry.h"

namespace ncm::store {

class HashIndex {
 public:
  static constexpr size_t kInitialBuckets = 64;

  HashIndex() : buckets_(kInitialBuckets, nullptr) {}

  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  Entry* FindLocked(std::string_view key, uint64_t hash) const {
    for (Entry* e = buckets_[hash & (buckets_.size() - 1)]; e != nullptr; e = e->chain_next) {
      if (e->hash == hash && e->key() == key) return e;
    }
    return nullptr;
  }

  void InsertLocked(Entry* e) {
    if (size_ >= buckets_.size()) GrowLocked();
    Entry*& slot = buckets_[e->hash & (buckets_.size() - 1)];
    e->chain_next = slot;
    slot = e;
    ++size_;
  }

  void EraseLocked(Entry* e) {
    Entry** link = &buckets_[e->hash & (buckets_.size() - 1)];
    while (*link != e) link = &(*link)->chain_next;
    *link = e->chain_next;
    e->chain_next = nullptr;
    --size_;
  }

  // Drops every bucket (the entries are owned and freed by the caller).
  void ResetLocked() {
    std::vector<Entry*>(kInitialBuckets, nullptr).swap(buckets_);
    size_ = 0;
  }

  size_t size() const { return size_; }
  size_t bucket_count() const { return buckets_.size(); }
  Entry* bucket(size_t i) const { return buckets_[i]; }

 private:
  void GrowLocked() {
    std::vector<Entry*> next(buckets_.size() * 2, nullptr);
    const size_t mask = next.size() - 1;
    for (Entry* head : buckets_) {
      while (head != nullptr) {
        Entry* following = head->chain_next;
        Entry*& slot = next[head->hash & mask];
        head->chain_next = slot;
        slot = head;
        head = following;
      }
    }
    buckets_.swap(next);
  }

  std::vector<Entry*> buckets_;
  size_t size_ = 0;
};

}  // namespace ncm::store

#endif  // NCM_STORE_HASH_INDEX_H_
