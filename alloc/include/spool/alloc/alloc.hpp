// Public C++ API of the pool allocator.
//
//   allocate(size)               >= size bytes, 16-byte aligned; throws
//                                std::bad_alloc on failure. size 0 yields a
//                                unique minimum-size block.
//   deallocate(p)                p from any allocate*/spool_* call, any thread;
//                                nullptr is a no-op.
//   allocate_aligned(size, a)    a a power of two <= 1 MiB; throws
//                                spool::Error (invalid_argument) otherwise.
//
// Errors: spool::Error (spool/error.hpp), like the rest of Spool, except
// that running out of memory is std::bad_alloc, as the C++ allocator
// requirements (PoolAllocator in std containers) demand.
//   usable_size(p)               bytes usable at p (the block size).
//   deallocate_checked(p)        like deallocate but always validates p
//                                (foreign / interior pointer) and aborts with a
//                                message; double frees are caught in builds
//                                with SPOOL_ALLOC_CHECKS.
#pragma once

#include <cstddef>

#include "spool/alloc/detail/tls_cache.hpp"

namespace spool::alloc {

[[nodiscard, gnu::always_inline, gnu::malloc]] inline void* allocate(std::size_t size) {
  return detail::alloc_fast<true>(size);
}

[[gnu::always_inline]] inline void deallocate(void* p) noexcept {
  if (SPOOL_ALLOC_LIKELY(p != nullptr)) detail::free_fast(p);
}

[[nodiscard]] void* allocate_aligned(std::size_t size, std::size_t alignment);
[[nodiscard]] std::size_t usable_size(const void* p) noexcept;
void deallocate_checked(void* p) noexcept;

// Returns every block cached by the calling thread to the shared backend
// (done automatically when a thread exits).
void flush_thread_cache() noexcept;

}  // namespace spool::alloc
