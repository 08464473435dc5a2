// Wiping secrets (passwords) from memory once they are no longer needed, so a core dump or a
// later reuse of the same heap block does not show them. The stores go through a volatile
// pointer: the compiler may not drop them as dead writes to memory about to be freed.
#ifndef NCM_COMMON_WIPE_H_
#define NCM_COMMON_WIPE_H_

#include <cstddef>
#include <string>

namespace ncm {

// Overwrites `size` bytes at `data` with zeros. Any thread.
inline void WipeBytes(void* data, size_t size) {
  volatile unsigned char* p = static_cast<volatile unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) p[i] = 0;
}

// Overwrites the whole buffer of `*text` (its capacity, not only its size: a string that was
// moved from, or shrunk, keeps the old bytes there) and leaves it empty.
inline void WipeString(std::string* text) {
  text->resize(text->capacity());
  WipeBytes(text->data(), text->size());
  text->clear();
}

}  // namespace ncm

#endif  // NCM_COMMON_WIPE_H_
