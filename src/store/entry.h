// One cached item, allocated as a single block: this header, then the key bytes, then the
// value bytes. Keeping everything in one allocation halves malloc traffic and keeps the
// per-entry overhead (reported in `footprint()`) small and honest for byte budgets.
#ifndef NCM_STORE_ENTRY_H_
#define NCM_STORE_ENTRY_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/clock.h"

namespace ncm::store {

struct Entry {
  static constexpr uint8_t kVisited = 1;  // SIEVE's "accessed since the hand passed" bit
  static constexpr uint8_t kText = 2;     // the value was handed in as a JS string
  static constexpr uint8_t kAscii = 4;    // text whose bytes are all < 0x80

  Entry* chain_next;   // next entry in the same hash bucket
  Entry* newer;        // towards the head of the eviction queue
  Entry* older;        // towards the tail of the eviction queue
  int64_t expires_at;  // epoch ms; 0 = never
  uint32_t hash;
  uint32_t key_len;
  uint32_t value_len;
  // Where the JS side keeps a decoded copy of this entry's value (its ring slot + 1), or 0.
  // A hint only: the reader checks the copy's generation against this entry's.
  uint32_t decoded_slot;
  uint8_t tag;    // opaque to the store: the JS codec's type tag
  uint8_t flags;  // kVisited | kText | kAscii
  // Which write made this entry: a per-store counter of 48 bits kept in what would
  // otherwise be padding. Readers that keep a decoded copy compare it to know the entry is
  // still the one they decoded. It wraps after 2^48 writes (325 days at 10 M writes a
  // second), and a wrap could only fool a copy of a key rewritten exactly 2^48 writes later.
  uint16_t generation_high;
  uint32_t generation_low;

  static constexpr uint64_t kGenerationMask = (uint64_t{1} << 48) - 1;
  uint64_t generation() const { return (uint64_t{generation_high} << 32) | generation_low; }
  void set_generation(uint64_t g) {
    generation_high = static_cast<uint16_t>((g >> 32) & 0xffff);
    generation_low = static_cast<uint32_t>(g);
  }

  const char* key_data() const { return reinterpret_cast<const char*>(this + 1); }
  const char* value_data() const { return key_data() + key_len; }
  std::string_view key() const { return {key_data(), key_len}; }
  std::string_view value() const { return {value_data(), value_len}; }
  size_t footprint() const { return sizeof(Entry) + key_len + value_len; }
  // `now` may be a coarse reading (never ahead of the real time, behind by less than
  // kCoarseClockSlackMs): only entries that expire inside that slack read the precise clock.
  bool expired(int64_t now) const {
    if (expires_at == 0) return false;
    if (expires_at <= now) return true;
    if (expires_at > now + kCoarseClockSlackMs) return false;
    return expires_at <= NowMs();
  }

  // Allocates an entry whose value bytes are left for the caller to write; there is room
  // for one byte past the value (for writers that append a NUL terminator). Returns
  // nullptr when the allocation fails; the caller reports it as a full store.
  static Entry* Allocate(std::string_view key, size_t value_len, uint32_t hash) {
    void* block = std::malloc(sizeof(Entry) + key.size() + value_len + 1);
    if (block == nullptr) return nullptr;
    Entry* e = static_cast<Entry*>(block);
    e->chain_next = e->newer = e->older = nullptr;
    e->expires_at = 0;
    e->hash = hash;
    e->decoded_slot = 0;
    e->key_len = static_cast<uint32_t>(key.size());
    e->value_len = static_cast<uint32_t>(value_len);
    e->tag = 0;
    e->flags = 0;
    e->set_generation(0);
    if (!key.empty()) std::memcpy(e + 1, key.data(), key.size());
    return e;
  }

  char* mutable_value_data() { return reinterpret_cast<char*>(this + 1) + key_len; }

  static Entry* Create(std::string_view key, std::string_view value, uint32_t hash) {
    Entry* e = Allocate(key, value.size(), hash);
    if (e != nullptr && !value.empty())
      std::memcpy(e->mutable_value_data(), value.data(), value.size());
    return e;
  }

  static void Destroy(Entry* e) { std::free(e); }
};

static_assert(sizeof(Entry) == 56, "keep the entry header small: it is paid per item");

}  // namespace ncm::store

#endif  // NCM_STORE_ENTRY_H_
