// The only functions the inline hot path (Box 1, tls_cache.hpp) calls: the
// cold entry points into the refill engine. Defined in alloc/src; never inline.
#pragma once

#include <cstddef>

namespace spool::alloc::detail {

// Any allocation the fast path could not serve (empty list, size 0, sizes
// above 1 KiB, large sizes). nullptr on failure (errno = ENOMEM).
[[gnu::cold, gnu::noinline]] void* alloc_slow(std::size_t size) noexcept;
// Same, but throws std::bad_alloc instead of returning nullptr.
[[gnu::cold, gnu::noinline, gnu::returns_nonnull]] void* alloc_slow_or_throw(std::size_t size);
// A free whose list is at its cap (or not set up yet), or of a large block.
// The fast path has already decremented room[cls]; this undoes it.
[[gnu::cold, gnu::noinline]] void free_slow(void* p, unsigned cls) noexcept;
// SPOOL_ALLOC_CHECKS builds: validates p before it is freed; aborts with a
// message for foreign pointers, interior pointers and double frees.
[[gnu::noinline]] void check_free(void* p) noexcept;

}  // namespace spool::alloc::detail
