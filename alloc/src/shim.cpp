// libspool_malloc.so: replaces the C allocation functions and C++ operator
// new/delete of a whole process (LD_PRELOAD=libspool_malloc.so prog).
// Everything forwards to the pool's inline fast path; see docs/alloc.md for
// the start-up, thread-exit and fork rules that make this safe.
#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <new>

#include "spool/alloc/alloc.hpp"
#include "spool/alloc/spool_malloc.h"

#define SPOOL_SHIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
inline void* shim_aligned(std::size_t alignment, std::size_t size) noexcept {
  return spool_aligned_alloc(alignment, size);
}
}  // namespace

SPOOL_SHIM_EXPORT void* malloc(std::size_t size) {
  return spool::alloc::detail::alloc_fast<false>(size);
}
SPOOL_SHIM_EXPORT void free(void* p) { spool::alloc::deallocate(p); }
SPOOL_SHIM_EXPORT void cfree(void* p) { spool::alloc::deallocate(p); }
SPOOL_SHIM_EXPORT void* calloc(std::size_t n, std::size_t size) { return spool_calloc(n, size); }
SPOOL_SHIM_EXPORT void* realloc(void* p, std::size_t size) { return spool_realloc(p, size); }
SPOOL_SHIM_EXPORT void* reallocarray(void* p, std::size_t n, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(n, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return spool_realloc(p, bytes);
}
SPOOL_SHIM_EXPORT int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  const int saved = errno;
  void* p = shim_aligned(alignment, size);
  if (p == nullptr) {
    const int err = errno == EINVAL ? EINVAL : ENOMEM;
    errno = saved;
    return err;
  }
  *out = p;
  return 0;
}
SPOOL_SHIM_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t size) {
  return shim_aligned(alignment, size);
}
SPOOL_SHIM_EXPORT void* memalign(std::size_t alignment, std::size_t size) {
  return shim_aligned(alignment, size);
}
SPOOL_SHIM_EXPORT void* valloc(std::size_t size) {
  return shim_aligned(static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), size);
}
SPOOL_SHIM_EXPORT void* pvalloc(std::size_t size) {
  const auto ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return shim_aligned(ps, (size + ps - 1) & ~(ps - 1));
}
SPOOL_SHIM_EXPORT std::size_t malloc_usable_size(void* p) { return spool_malloc_usable_size(p); }

// ---- C++ ------------------------------------------------------------------
#define SPOOL_NEW_EXPORT __attribute__((visibility("default")))

SPOOL_NEW_EXPORT void* operator new(std::size_t n) { return spool::alloc::allocate(n); }
SPOOL_NEW_EXPORT void* operator new[](std::size_t n) { return spool::alloc::allocate(n); }
SPOOL_NEW_EXPORT void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return spool_malloc(n);
}
SPOOL_NEW_EXPORT void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return spool_malloc(n);
}
SPOOL_NEW_EXPORT void* operator new(std::size_t n, std::align_val_t a) {
  return spool::alloc::allocate_aligned(n, static_cast<std::size_t>(a));
}
SPOOL_NEW_EXPORT void* operator new[](std::size_t n, std::align_val_t a) {
  return spool::alloc::allocate_aligned(n, static_cast<std::size_t>(a));
}
SPOOL_NEW_EXPORT void* operator new(std::size_t n, std::align_val_t a,
                                    const std::nothrow_t&) noexcept {
  return spool_aligned_alloc(static_cast<std::size_t>(a), n);
}
SPOOL_NEW_EXPORT void* operator new[](std::size_t n, std::align_val_t a,
                                      const std::nothrow_t&) noexcept {
  return spool_aligned_alloc(static_cast<std::size_t>(a), n);
}
SPOOL_NEW_EXPORT void operator delete(void* p) noexcept { spool::alloc::deallocate(p); }
SPOOL_NEW_EXPORT void operator delete[](void* p) noexcept { spool::alloc::deallocate(p); }
SPOOL_NEW_EXPORT void operator delete(void* p, std::size_t) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete[](void* p, std::size_t) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete(void* p, std::align_val_t) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete[](void* p, std::align_val_t) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept {
  spool::alloc::deallocate(p);
}
SPOOL_NEW_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept {
  spool::alloc::deallocate(p);
}
