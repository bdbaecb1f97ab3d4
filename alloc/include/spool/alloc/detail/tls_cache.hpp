// Box 1 — thread-local freelists: the hot path and nothing else.
//
// One singly linked list per size class per thread. alloc pops, free pushes.
// `room[cls]` counts down how many more blocks this thread's list may take
// before Box 2 must return the excess: free decrements it and diverts to
// Box 2 when it would go negative; a pop increments it. Entries for classes
// that do not exist (up to 255, including kLargeClass) stay 0, so a free of a
// large block reaches the slow path without a range check.
//
// Contract D: no learning, no metrics (unless SPOOL_ALLOC_STATS), no locks,
// no atomic read-modify-write. On a miss it calls detail::alloc_slow (Box 2's
// entry) and nothing else. Box 2 reaches the lists only through the chain
// installer functions at the bottom of this header.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "spool/alloc/detail/block.hpp"
#include "spool/alloc/detail/config.hpp"
#include "spool/alloc/detail/segment.hpp"
#include "spool/alloc/detail/slow_path.hpp"
#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {

inline constexpr unsigned kListSlots = 256;  // indexed by any class byte

// Three separate thread-local arrays rather than one struct: each is then
// addressed as fs:[array + index * scale] with no extra displacement
// arithmetic, which keeps free() at 8 instructions with local-exec TLS.
extern constinit thread_local void* tls_head[kListSlots] SPOOL_ALLOC_TLS_MODEL;
extern constinit thread_local std::int32_t tls_room[kListSlots] SPOOL_ALLOC_TLS_MODEL;
#if defined(SPOOL_ALLOC_STATS)
// Written only by the owner thread (load + store, no RMW), read by stats().
extern constinit thread_local std::atomic<std::uint64_t> tls_hits[kClassCount]
    SPOOL_ALLOC_TLS_MODEL;
#endif

// Hands a block that was free to the user: clears the free tag, unpoisons.
inline void open_block([[maybe_unused]] unsigned cls, [[maybe_unused]] void* b) noexcept {
  if constexpr (kChecks) store_word(b, 1, nullptr);
  unpoison(b, class_size(cls));
#if defined(SPOOL_ALLOC_USE_VALGRIND)
  VALGRIND_MALLOCLIKE_BLOCK(b, class_size(cls), 0, 0);
#endif
}

inline void on_alloc_hit([[maybe_unused]] unsigned cls, [[maybe_unused]] void* b) noexcept {
#if defined(SPOOL_ALLOC_STATS)
  tls_hits[cls].store(tls_hits[cls].load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
#endif
  open_block(cls, b);
}

// Marks a block the user gave back as free (tag, poison) before it is pushed.
inline void close_block([[maybe_unused]] unsigned cls, [[maybe_unused]] void* p) noexcept {
#if defined(SPOOL_ALLOC_USE_VALGRIND)
  VALGRIND_FREELIKE_BLOCK(p, 0);
#endif
  if constexpr (kChecks) store_word(p, 1, free_tag(p));
  poison(p, class_size(cls));
}

// Pops a block of class `cls` (cls < kClassCount), or nullptr when empty.
[[gnu::always_inline]] inline void* pop(unsigned cls) noexcept {
  void* b = tls_head[cls];
  if (SPOOL_ALLOC_UNLIKELY(b == nullptr)) return nullptr;
  tls_head[cls] = load_next(b);
  ++tls_room[cls];
  on_alloc_hit(cls, b);
  return b;
}

// Fast path for requests of 1..1024 bytes; everything else goes to Box 2.
template <bool Throw>
[[gnu::always_inline]] inline void* alloc_fast(std::size_t size) {
  if (SPOOL_ALLOC_LIKELY(size - 1 < kSmallMax)) {
    const std::size_t cls = (size - 1) >> 4;
    void* b = tls_head[cls];
    if (SPOOL_ALLOC_LIKELY(b != nullptr)) {
      tls_head[cls] = load_next(b);
      ++tls_room[cls];
      on_alloc_hit(static_cast<unsigned>(cls), b);
      return b;
    }
  }
  if constexpr (Throw) {
    return alloc_slow_or_throw(size);
  } else {
    return alloc_slow(size);
  }
}

// Pushes a block without the cap check (Box 2 uses it after making room).
inline void push(unsigned cls, void* p) noexcept {
  store_next(p, tls_head[cls]);
  tls_head[cls] = p;
}

// Fast path of free; p must be non-null and come from this allocator.
[[gnu::always_inline]] inline void free_fast(void* p) noexcept {
  if constexpr (kChecks) check_free(p);
  const std::size_t cls = segment_class(p);
  if (SPOOL_ALLOC_UNLIKELY(--tls_room[cls] < 0)) {
    free_slow(p, static_cast<unsigned>(cls));
    return;
  }
  close_block(static_cast<unsigned>(cls), p);
  store_next(p, tls_head[cls]);
  tls_head[cls] = p;
}

// ---- chain installer: the whole of Box 1's interface to Box 2 ------------

// Installs a chain of n blocks (terminated by nullptr) as the list of an
// empty class and charges it against room.
inline void install_chain(unsigned cls, void* head, std::uint32_t n) noexcept {
  tls_head[cls] = head;
  tls_room[cls] -= static_cast<std::int32_t>(n);
}

// Detaches up to n blocks from the front of the list; returns their count and
// sets *head / *tail (tail's next is left pointing into the list: the caller
// overwrites it). Gives the room back.
inline std::uint32_t detach_chain(unsigned cls, std::uint32_t n, void** head,
                                  void** tail) noexcept {
  void* h = tls_head[cls];
  if (h == nullptr || n == 0) return 0;
  void* t = h;
  std::uint32_t k = 1;
  while (k < n) {
    void* nx = load_next(t);
    if (nx == nullptr) break;
    t = nx;
    ++k;
  }
  tls_head[cls] = load_next(t);
  tls_room[cls] += static_cast<std::int32_t>(k);
  *head = h;
  *tail = t;
  return k;
}

inline std::int32_t room(unsigned cls) noexcept { return tls_room[cls]; }
inline void set_room(unsigned cls, std::int32_t r) noexcept { tls_room[cls] = r; }
inline bool list_empty(unsigned cls) noexcept { return tls_head[cls] == nullptr; }

}  // namespace spool::alloc::detail
