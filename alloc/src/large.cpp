// Large allocations (above 1 MiB, or aligned beyond what a class offers): one
// mapping each, starting on a 4 MiB boundary with a header whose class byte is
// kLargeClass. A few freed mappings are kept for reuse (no mmap, munmap and
// page faults for a program that frees and allocates big buffers in a loop),
// within the shared retention budget (SPOOL_ALLOC_RETAIN_KIB) and for at most
// SPOOL_ALLOC_DECAY_MS; the rest go straight back to the OS.
#include <atomic>
#include <cerrno>

#include "backend.hpp"
#include "os.hpp"
#include "retention.hpp"
#include "spinlock.hpp"
#include "spool/alloc/detail/segment.hpp"

namespace spool::alloc::detail {
namespace {

constexpr unsigned kCacheSlots = 8;

struct CachedMapping {
  char* base;
  std::size_t length;
  std::uint64_t stamp_ms;
};

struct LargeCache {
  SpinLock lock;
  unsigned n = 0;
  CachedMapping slot[kCacheSlots] = {};
};

constinit LargeCache g_cache;
constinit std::atomic<std::uint64_t> g_large_allocs{0};
constinit std::atomic<std::uint64_t> g_large_live{0};
constinit std::atomic<std::uint64_t> g_large_reused{0};

// Removes slot i (lock held); returns it.
CachedMapping take_slot(unsigned i) noexcept {
  const CachedMapping m = g_cache.slot[i];
  g_cache.slot[i] = g_cache.slot[--g_cache.n];
  retention_sub(m.length);
  return m;
}

// Moves every cached mapping older than max_age_ms into out (lock held);
// the caller unmaps them after unlocking. Returns how many.
unsigned collect_old(std::uint64_t now, std::uint64_t max_age_ms, CachedMapping* out) noexcept {
  unsigned k = 0;
  for (unsigned i = 0; i < g_cache.n;) {
    if (now - g_cache.slot[i].stamp_ms >= max_age_ms) {
      out[k++] = take_slot(i);
    } else {
      ++i;
    }
  }
  return k;
}

unsigned oldest_slot() noexcept {
  unsigned o = 0;
  for (unsigned i = 1; i < g_cache.n; ++i) {
    if (g_cache.slot[i].stamp_ms < g_cache.slot[o].stamp_ms) o = i;
  }
  return o;
}

void unmap_all(const CachedMapping* m, unsigned n) noexcept {
  for (unsigned i = 0; i < n; ++i) {
    unregister_segment(m[i].base);
    unmap(m[i].base, m[i].length);
  }
}

}  // namespace

void* large_alloc(std::size_t size, std::size_t alignment) noexcept {
  const std::size_t offset = alignment > kSegmentHeader ? alignment : kSegmentHeader;
  const std::size_t ps = page_size();
  if (alignment > kMaxAlignment || size > (std::size_t{1} << 46)) {
    errno = ENOMEM;
    return nullptr;
  }
  const std::size_t length = (offset + size + ps - 1) & ~(ps - 1);
  char* base = nullptr;
  std::size_t have = 0;
  {
    SpinGuard g(g_cache.lock);
    // Best fit among cached mappings at most 25 % larger than needed.
    unsigned best = kCacheSlots;
    for (unsigned i = 0; i < g_cache.n; ++i) {
      const std::size_t l = g_cache.slot[i].length;
      if (l >= length && l - length <= length / 4 &&
          (best == kCacheSlots || l < g_cache.slot[best].length)) {
        best = i;
      }
    }
    if (best != kCacheSlots) {
      const CachedMapping m = take_slot(best);
      base = m.base;
      have = m.length;
    }
  }
  bool recycled = base != nullptr;
  if (base == nullptr) {
    base = map_aligned(length);
    if (base == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    have = length;
  }
  init_header(base, kLargeClass, have, offset);
  reinterpret_cast<SegmentHeader*>(base)->recycled = recycled ? 1 : 0;
  g_large_allocs.fetch_add(1, std::memory_order_relaxed);
  g_large_live.fetch_add(have, std::memory_order_relaxed);
  if (recycled) g_large_reused.fetch_add(1, std::memory_order_relaxed);
  return base + offset;
}

void large_free(void* p) noexcept {
  auto* h = segment_of(p);
  if (h->magic != kSegmentMagic || reinterpret_cast<char*>(h) + h->user_offset != p) {
    fatal("free of a pointer that is not a large block it allocated:", p);
  }
  const std::size_t length = h->map_length;
  g_large_live.fetch_sub(length, std::memory_order_relaxed);
  CachedMapping drop[kCacheSlots + 1];
  unsigned ndrop = 0;
  const std::uint64_t now = now_ms();
  {
    SpinGuard g(g_cache.lock);
    ndrop = collect_old(now, retention_decay_ms(), drop);
    if (retention_fits(length)) {
      if (g_cache.n == kCacheSlots) drop[ndrop++] = take_slot(oldest_slot());
      g_cache.slot[g_cache.n++] = CachedMapping{reinterpret_cast<char*>(h), length, now};
      retention_add(length);
    } else {
      drop[ndrop++] = CachedMapping{reinterpret_cast<char*>(h), length, now};
    }
  }
  unmap_all(drop, ndrop);
}

std::size_t large_usable(const void* p) noexcept {
  const auto* h = segment_of(p);
  return h->map_length - h->user_offset;
}

bool large_recycled(const void* p) noexcept { return segment_of(p)->recycled != 0; }

void large_cache_trim(std::uint64_t max_age_ms) noexcept {
  CachedMapping drop[kCacheSlots];
  unsigned n = 0;
  {
    SpinGuard g(g_cache.lock);
    n = collect_old(now_ms(), max_age_ms, drop);
  }
  unmap_all(drop, n);
}

void large_cache_shrink() noexcept {
  CachedMapping drop[kCacheSlots];
  unsigned n = 0;
  if (!g_cache.lock.try_lock()) return;
  while (g_cache.n > 0 && retention_over()) drop[n++] = take_slot(oldest_slot());
  g_cache.lock.unlock();
  unmap_all(drop, n);
}

void large_fork_prepare() noexcept { g_cache.lock.lock(); }
void large_fork_parent() noexcept { g_cache.lock.unlock(); }
void large_fork_child() noexcept { g_cache.lock.reset(); }

std::uint64_t backend_large_allocs() noexcept {
  return g_large_allocs.load(std::memory_order_relaxed);
}
std::uint64_t backend_large_bytes_live() noexcept {
  return g_large_live.load(std::memory_order_relaxed);
}

}  // namespace spool::alloc::detail
