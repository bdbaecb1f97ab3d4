// Free-block access shared by Box 1 and Box 2. A free block stores the next
// free block in its first word; with SPOOL_ALLOC_CHECKS its second word holds
// a tag (address ^ kFreeTag) that marks it free, so a second free is caught.
// Under ASan (and Valgrind when enabled) free blocks are poisoned as a whole,
// so a use-after-free of a pooled block is reported; these helpers open just
// the word they touch and close it again.
#pragma once

#include <cstddef>
#include <cstdint>

#include "spool/alloc/detail/config.hpp"

namespace spool::alloc::detail {

inline constexpr std::uintptr_t kFreeTag = 0x5b00'1f4e'e000'0dd5ULL;

inline void poison(void* p, std::size_t n) noexcept {
#if defined(SPOOL_ALLOC_ASAN)
  __asan_poison_memory_region(p, n);
#endif
#if defined(SPOOL_ALLOC_USE_VALGRIND)
  (void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
#endif
  (void)p;
  (void)n;
}

inline void unpoison(void* p, std::size_t n) noexcept {
#if defined(SPOOL_ALLOC_ASAN)
  __asan_unpoison_memory_region(p, n);
#endif
#if defined(SPOOL_ALLOC_USE_VALGRIND)
  (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#endif
  (void)p;
  (void)n;
}

// Reads / writes word `i` (0 = next, 1 = tag) of a free (poisoned) block.
inline void* load_word(void* b, std::size_t i) noexcept {
  void** w = static_cast<void**>(b) + i;
  unpoison(w, sizeof(void*));
  void* v = *w;
  poison(w, sizeof(void*));
  return v;
}
inline void store_word(void* b, std::size_t i, void* v) noexcept {
  void** w = static_cast<void**>(b) + i;
  unpoison(w, sizeof(void*));
  *w = v;
  poison(w, sizeof(void*));
}
inline void* load_next(void* b) noexcept { return load_word(b, 0); }
inline void store_next(void* b, void* next) noexcept { store_word(b, 0, next); }

inline void* free_tag(void* b) noexcept {
  return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(b) ^ kFreeTag);
}

}  // namespace spool::alloc::detail
