// SIEVE eviction (Zhang et al., NSDI '24): a FIFO queue plus one "visited" bit per entry
// and a hand that walks from the tail towards the head. A hit only sets a bit (no list
// surgery, unlike LRU), and the hand evicts the first unvisited entry it meets, clearing
// bits as it passes. On skewed (Zipf) traces it matches or beats LRU's hit ratio; the
// measurement is in bench/js/hit-ratio.js.
//
// The hand's walk is bounded: when every entry was read since the last eviction, plain
// SIEVE clears every bit in one pass (12 ms at 1M entries, under the lock). After
// kMaxHandSteps visited entries we evict the one under the hand instead, which bounds the
// cost of a set and, on real traces, never happens (the hit-ratio benchmark checks it).
//
// Not thread-safe: the owning MemoryStore calls every method with its mutex held.
#ifndef NCM_STORE_EVICTION_POLICY_H_
#define NCM_STORE_EVICTION_POLICY_H_

#include "store/entry.h"

namespace ncm::store {

class SievePolicy {
 public:
  static constexpr int kMaxHandSteps = 4096;

  // A new entry enters at the head, unvisited.
  void InsertLocked(Entry* e) {
    e->flags &= static_cast<uint8_t>(~Entry::kVisited);
    e->older = head_;
    e->newer = nullptr;
    if (head_ != nullptr) head_->newer = e;
    head_ = e;
    if (tail_ == nullptr) tail_ = e;
  }

  static void TouchLocked(Entry* e) { e->flags |= Entry::kVisited; }

  void RemoveLocked(Entry* e) {
    if (hand_ == e) hand_ = e->newer;
    if (e->newer != nullptr)
      e->newer->older = e->older;
    else
      head_ = e->older;
    if (e->older != nullptr)
      e->older->newer = e->newer;
    else
      tail_ = e->newer;
    e->newer = e->older = nullptr;
  }

  // Picks the entry to evict next (still linked; the caller removes it). nullptr if empty.
  // `take_visit(const Entry*)` reports, and forgets, a visit recorded outside the entry
  // (reads served from a decoded copy, see MemoryStore::AttachBoard); it counts as the bit.
  template <typename TakeVisit>
  Entry* VictimLocked(TakeVisit&& take_visit) {
    if (tail_ == nullptr) return nullptr;
    Entry* e = hand_ != nullptr ? hand_ : tail_;
    for (int steps = 0; steps < kMaxHandSteps; ++steps) {
      const bool visited_elsewhere = take_visit(static_cast<const Entry*>(e));
      if ((e->flags & Entry::kVisited) == 0 && !visited_elsewhere) break;
      e->flags &= static_cast<uint8_t>(~Entry::kVisited);
      e = e->newer != nullptr ? e->newer : tail_;
    }
    hand_ = e->newer;
    return e;
  }

  Entry* oldest() const { return tail_; }

  // Forgets every entry without touching them (they were detached by the owner).
  void ResetLocked() { head_ = tail_ = hand_ = nullptr; }

 private:
  Entry* head_ = nullptr;  // newest
  Entry* tail_ = nullptr;  // oldest
  Entry* hand_ = nullptr;  // next candidate; nullptr means "start at the tail"
};

}  // namespace ncm::store

#endif  // NCM_STORE_EVICTION_POLICY_H_
