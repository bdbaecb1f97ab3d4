// Slow entry points behind the inline fast path, aligned allocation and the
// C API. Decides pooled vs large; pooled misses go to the refill engine.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "backend.hpp"
#include "refill.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/spool_malloc.h"
#include "spool/error.hpp"

namespace spool::alloc {
namespace detail {

void* alloc_slow(std::size_t size) noexcept {
  if (size == 0) size = 1;
  if (size > kMaxPooled) return large_alloc(size, kMinBlock);
  const unsigned cls = class_of(size);
  if (void* b = pop(cls)) return b;
  void* b = refill_and_alloc(cls);
  if (b == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  open_block(cls, b);
  return b;
}

void* alloc_slow_or_throw(std::size_t size) {
  void* p = alloc_slow(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void check_free(void* p) noexcept {
  if (!segment_registered(p)) fatal("free of a pointer it did not allocate:", p);
  const SegmentHeader* h = segment_of(p);
  if (h->magic != kSegmentMagic) fatal("free of a pointer in a corrupted segment:", p);
  const auto off = static_cast<std::size_t>(static_cast<const char*>(p) -
                                            reinterpret_cast<const char*>(h));
  if (h->cls == kLargeClass) {
    if (off != h->user_offset) fatal("free of an interior pointer of a large block:", p);
    return;
  }
  if (h->cls >= kClassCount || off < kSegmentHeader ||
      (off - kSegmentHeader) % class_size(h->cls) != 0) {
    fatal("free of a pointer that is not the start of a block:", p);
  }
  if constexpr (kChecks) {
    if (load_word(p, 1) == free_tag(p)) fatal("double free of", p);
  }
}

// Pooled class whose blocks are all aligned to `alignment` (<= 4096), or
// kClassCount when none fits. Blocks start at 4096 + i * size in a 4 MiB
// aligned segment, so a block is aligned when its size is a multiple of it.
unsigned aligned_class(std::size_t size, std::size_t alignment) noexcept {
  if (size > kMaxPooled || alignment > kSegmentHeader) return kClassCount;
  for (unsigned c = class_of(size == 0 ? 1 : size); c < kClassCount; ++c) {
    if (class_size(c) % alignment == 0) return c;
  }
  return kClassCount;
}

void* aligned_nothrow(std::size_t size, std::size_t alignment) noexcept {
  if (alignment <= kMinBlock) return alloc_slow(size);
  const unsigned cls = aligned_class(size, alignment);
  if (cls == kClassCount) return large_alloc(size == 0 ? 1 : size, alignment);
  return alloc_slow(class_size(cls));
}

bool valid_alignment(std::size_t a) noexcept {
  return a != 0 && (a & (a - 1)) == 0 && a <= kMaxAlignment;
}

}  // namespace detail

void* allocate_aligned(std::size_t size, std::size_t alignment) {
  if (!detail::valid_alignment(alignment)) {
    SPOOL_THROW(Errc::invalid_argument, "spool::alloc::allocate_aligned: alignment " +
                                            std::to_string(alignment) + " is not a power of two <= 1 MiB");
  }
  void* p = detail::aligned_nothrow(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

std::size_t usable_size(const void* p) noexcept {
  if (p == nullptr) return 0;
  const unsigned cls = detail::segment_class(p);
  if (cls == kLargeClass) return detail::large_usable(p);
  return cls < kClassCount ? class_size(cls) : 0;
}

void deallocate_checked(void* p) noexcept {
  if (p == nullptr) return;
  detail::check_free(p);
  detail::free_fast(p);
}

void flush_thread_cache() noexcept { detail::flush_all_lists(); }

}  // namespace spool::alloc

// Exported from libspool_malloc.so too, which hides everything else.
#pragma GCC visibility push(default)
extern "C" {

void* spool_malloc(size_t size) { return spool::alloc::detail::alloc_fast<false>(size); }

void spool_free(void* p) { spool::alloc::deallocate(p); }

void* spool_calloc(size_t count, size_t size) {
  size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = spool::alloc::detail::alloc_fast<false>(bytes);
  // Large blocks fresh from mmap are already zero; reused mappings are not.
  if (p != nullptr && (spool::alloc::detail::segment_class(p) != spool::alloc::kLargeClass ||
                       spool::alloc::detail::large_recycled(p))) {
    std::memset(p, 0, bytes);
  }
  return p;
}

void* spool_realloc(void* p, size_t size) {
  if (p == nullptr) return spool_malloc(size);
  if (size == 0) size = 1;  // glibc frees here; we keep the block valid (documented)
  const size_t have = spool::alloc::usable_size(p);
  if (size <= have && size >= have / 2) return p;
  void* q = spool_malloc(size);
  if (q == nullptr) return nullptr;  // p stays valid
  std::memcpy(q, p, size < have ? size : have);
  spool::alloc::deallocate(p);
  return q;
}

void* spool_aligned_alloc(size_t alignment, size_t size) {
  if (!spool::alloc::detail::valid_alignment(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  return spool::alloc::detail::aligned_nothrow(size, alignment);
}

size_t spool_malloc_usable_size(const void* p) { return spool::alloc::usable_size(p); }

}  // extern "C"
#pragma GCC visibility pop
