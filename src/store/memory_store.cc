#include "store/memory_store.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

namespace {

bool IsAscii(std::string_view bytes) {
  uint8_t any = 0;
  for (char c : bytes) any |= static_cast<uint8_t>(c);  // vectorizes; no early exit needed
  return (any & 0x80) == 0;
}

}  // namespace

namespace ncm::store {

DetachedEntries::~DetachedEntries() {
  Entry* e = oldest_;
  while (e != nullptr) {
    Entry* next = e->newer;
    Entry::Destroy(e);
    e = next;
  }
}

MemoryStore::MemoryStore(const Limits& limits) : limits_(limits) {}

MemoryStore::~MemoryStore() {
  // The board's owner may be gone already: nothing is written to it from here on.
  board_ = nullptr;
  board_slots_ = 0;
  DetachAll();
}

Entry* MemoryStore::FindLiveLocked(std::string_view key, uint32_t hash, int64_t now) {
  Entry* e = index_.FindLocked(key, hash);
  if (e != nullptr && e->expired(now)) {
    RemoveLocked(e);
    ++stats_.expirations;
    return nullptr;
  }
  return e;
}

void MemoryStore::BoardWriteLocked(uint32_t slot, uint64_t generation) {
  if (slot == 0 || slot >= board_slots_) return;
  std::atomic_ref<double>(board_[2 * size_t{slot}])
      .store(static_cast<double>(generation), std::memory_order_relaxed);
  std::atomic_ref<double>(board_[2 * size_t{slot} + 1]).store(0, std::memory_order_relaxed);
}

bool MemoryStore::BoardTakeTouchLocked(const Entry* e) {
  const uint32_t slot = e->decoded_slot;
  if (slot == 0 || slot >= board_slots_) return false;
  std::atomic_ref<double> touched(board_[2 * size_t{slot} + 1]);
  if (touched.load(std::memory_order_relaxed) == 0) return false;
  touched.store(0, std::memory_order_relaxed);
  return true;
}

void MemoryStore::AttachBoard(double* rows, uint32_t slots) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (rows != nullptr) {
    const size_t kept = std::min(slots, board_slots_);
    if (kept != 0) std::memcpy(rows, board_, 2 * sizeof(double) * kept);
    std::fill(rows + 2 * kept, rows + 2 * size_t{slots}, 0.0);
  }
  board_ = rows;
  board_slots_ = rows == nullptr ? 0 : slots;
}

void MemoryStore::RemoveLocked(Entry* e) {
  BoardWriteLocked(e->decoded_slot, 0);
  index_.EraseLocked(e);
  policy_.RemoveLocked(e);
  stats_.bytes -= e->footprint();
  --stats_.entries;
  if (e->expires_at != 0) --entries_with_expiry_;
  Entry::Destroy(e);
}

bool MemoryStore::MakeRoomLocked(uint64_t incoming_bytes) {
  while (stats_.entries + 1 > limits_.max_entries ||
         stats_.bytes + incoming_bytes > limits_.max_bytes) {
    Entry* victim =
        policy_.VictimLocked([this](const Entry* e) { return BoardTakeTouchLocked(e); });
    if (victim == nullptr) return false;
    RemoveLocked(victim);
    ++stats_.evictions;
  }
  return true;
}

Status MemoryStore::CheckSizes(size_t key_len, size_t value_len) const {
  if (key_len > limits_.max_key_bytes) return Status::kKeyTooLarge;
  if (value_len > limits_.max_value_bytes) return Status::kValueTooLarge;
  const uint64_t footprint = sizeof(Entry) + key_len + value_len;
  if (footprint > limits_.max_bytes || limits_.max_entries == 0) return Status::kEntryTooLarge;
  return Status::kOk;
}

Status MemoryStore::Set(std::string_view key, std::string_view value, uint8_t tag, bool is_text,
                        int64_t expires_at, int64_t now) {
  Status status = CheckSizes(key.size(), value.size());
  if (status != Status::kOk) return status;
  // Allocate and copy outside the lock: the copy of a large value is the slow part.
  Entry* fresh = Entry::Create(key, value, HashIndex::Hash(key));
  if (fresh == nullptr) return Status::kEntryTooLarge;
  return InsertFresh(fresh, tag, is_text, expires_at, now);
}

Status MemoryStore::InsertFresh(Entry* fresh, uint8_t tag, bool is_text, int64_t expires_at,
                                int64_t now) {
  fresh->tag = tag;
  fresh->flags = is_text ? Entry::kText : 0;
  if (is_text && IsAscii(fresh->value())) fresh->flags |= Entry::kAscii;
  fresh->expires_at = expires_at;
  const uint64_t footprint = fresh->footprint();

  std::lock_guard<std::mutex> lock(mutex_);
  if (Entry* old = index_.FindLocked(fresh->key(), fresh->hash)) {
    if (old->expired(now)) ++stats_.expirations;
    RemoveLocked(old);
  }
  if (!MakeRoomLocked(footprint)) {
    Entry::Destroy(fresh);
    return Status::kEntryTooLarge;
  }
  fresh->set_generation(next_generation_);
  next_generation_ = (next_generation_ + 1) & Entry::kGenerationMask;
  if (next_generation_ == 0) next_generation_ = 1;
  index_.InsertLocked(fresh);
  policy_.InsertLocked(fresh);
  ++stats_.entries;
  stats_.bytes += footprint;
  ++stats_.sets;
  if (fresh->expires_at != 0) ++entries_with_expiry_;
  return Status::kOk;
}

bool MemoryStore::SetDecodedSlot(std::string_view key, uint64_t generation, uint32_t slot,
                                 int64_t now) {
  const uint32_t hash = HashIndex::Hash(key);
  std::lock_guard<std::mutex> lock(mutex_);
  Entry* e = FindLiveLocked(key, hash, now);
  if (e == nullptr || e->generation() != generation) return false;
  if (slot != 0 && slot >= board_slots_) return false;
  if (e->decoded_slot != 0) {
    // Reads served from the copy being dropped still count as visits.
    if (BoardTakeTouchLocked(e)) SievePolicy::TouchLocked(e);
    BoardWriteLocked(e->decoded_slot, 0);
  }
  e->decoded_slot = slot;
  BoardWriteLocked(slot, generation);
  return true;
}

bool MemoryStore::Has(std::string_view key, int64_t now) {
  const uint32_t hash = HashIndex::Hash(key);
  std::lock_guard<std::mutex> lock(mutex_);
  return FindLiveLocked(key, hash, now) != nullptr;
}

int64_t MemoryStore::ExpiresAt(std::string_view key, int64_t now) {
  const uint32_t hash = HashIndex::Hash(key);
  std::lock_guard<std::mutex> lock(mutex_);
  Entry* e = FindLiveLocked(key, hash, now);
  return e == nullptr ? -1 : e->expires_at;
}

bool MemoryStore::Delete(std::string_view key, int64_t now) {
  const uint32_t hash = HashIndex::Hash(key);
  std::lock_guard<std::mutex> lock(mutex_);
  Entry* e = index_.FindLocked(key, hash);
  if (e == nullptr) return false;
  const bool live = !e->expired(now);
  if (live)
    ++stats_.deletes;
  else
    ++stats_.expirations;
  RemoveLocked(e);
  return live;
}

size_t MemoryStore::DeletePrefix(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t removed = 0;
  Entry* e = policy_.oldest();
  while (e != nullptr) {
    Entry* next = e->newer;
    if (e->key().starts_with(prefix)) {
      RemoveLocked(e);
      ++removed;
    }
    e = next;
  }
  stats_.deletes += removed;
  return removed;
}

std::unique_ptr<DetachedEntries> MemoryStore::DetachAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto detached = std::make_unique<DetachedEntries>(policy_.oldest());
  if (board_ != nullptr) std::fill(board_, board_ + 2 * size_t{board_slots_}, 0.0);
  policy_.ResetLocked();
  index_.ResetLocked();
  stats_.deletes += stats_.entries;
  stats_.entries = 0;
  stats_.bytes = 0;
  entries_with_expiry_ = 0;
  sweep_cursor_ = 0;
  return detached;
}

size_t MemoryStore::SweepStep(int64_t now, size_t max_buckets, bool* wrapped) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t removed = 0;
  *wrapped = false;
  if (entries_with_expiry_ == 0) {  // nothing can expire: skip the pass
    sweep_cursor_ = 0;
    *wrapped = true;
    return 0;
  }
  for (size_t n = 0; n < max_buckets; ++n) {
    if (sweep_cursor_ >= index_.bucket_count()) {
      sweep_cursor_ = 0;
      *wrapped = true;
      break;
    }
    Entry* e = index_.bucket(sweep_cursor_);
    while (e != nullptr) {
      Entry* next = e->chain_next;
      if (e->expired(now)) {
        RemoveLocked(e);
        ++stats_.expirations;
        ++removed;
      }
      e = next;
    }
    ++sweep_cursor_;
  }
  return removed;
}

Stats MemoryStore::GetStats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace ncm::store
