#include "redis/deadline_index.h"

namespace ncm::redis {

void DeadlineIndex::Add(Request* request) {
  if (request->tracked || request->deadline_ms == kNoDeadline) return;
  request->seq = next_seq_++;
  request->tracked = true;
  keys_.insert(Key{request->deadline_ms, request->seq, request});
}

void DeadlineIndex::Remove(Request* request) {
  if (!request->tracked) return;
  request->tracked = false;
  keys_.erase(Key{request->deadline_ms, request->seq, request});
}

uint64_t DeadlineIndex::Earliest() const {
  return keys_.empty() ? kNoDeadline : keys_.begin()->deadline_ms;
}

}  // namespace ncm::redis
