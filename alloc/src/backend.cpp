#include "backend.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "spinlock.hpp"
#include "spool/alloc/detail/block.hpp"
#include "spool/alloc/detail/segment.hpp"
#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {
namespace {

constexpr unsigned kDepotChains = 64;

struct DepotChain {
  void* head;
  void* tail;
  std::uint32_t n;
};

struct alignas(64) ClassDepot {
  SpinLock lock;
  unsigned nchains = 0;
  DepotChain chains[kDepotChains];
  char* bump = nullptr;  // carve cursor in the class's current segment
  char* end = nullptr;
  std::atomic<std::uint64_t> carved{0};
  std::atomic<std::uint64_t> depot{0};
};

constinit ClassDepot g_depots[kClassCount];

// One bit per 4 MiB of a 47-bit address space (4 MiB of zero pages in .bss).
constexpr std::size_t kBitmapWords = (std::size_t{1} << (47 - kSegmentShift)) / 64;
constinit std::atomic<std::uint64_t> g_segment_bits[kBitmapWords];
constinit std::atomic<std::uint64_t> g_segments{0};
constinit std::atomic<std::uint64_t> g_large_allocs{0};
constinit std::atomic<std::uint64_t> g_large_live{0};

void mark_segment(const void* base, bool on) noexcept {
  const std::uintptr_t idx = reinterpret_cast<std::uintptr_t>(base) >> kSegmentShift;
  if (idx / 64 >= kBitmapWords) return;
  const std::uint64_t bit = std::uint64_t{1} << (idx % 64);
  if (on) {
    g_segment_bits[idx / 64].fetch_or(bit, std::memory_order_release);
  } else {
    g_segment_bits[idx / 64].fetch_and(~bit, std::memory_order_release);
  }
}

std::size_t page_size() noexcept {
  static const std::size_t ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

// Maps `length` bytes starting at a kSegmentSize boundary.
char* map_aligned(std::size_t length) noexcept {
  const std::size_t span = length + kSegmentSize;
  if (span < length) return nullptr;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const std::uintptr_t r = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t base = (r + kSegmentSize - 1) & ~(kSegmentSize - 1);
  if (base > r) munmap(raw, base - r);
  const std::uintptr_t end = r + span;
  if (end > base + length) munmap(reinterpret_cast<void*>(base + length), end - (base + length));
  return reinterpret_cast<char*>(base);
}

void init_header(char* base, unsigned cls, std::size_t length, std::size_t offset) noexcept {
  auto* h = reinterpret_cast<SegmentHeader*>(base);
  h->cls = static_cast<std::uint8_t>(cls);
  h->magic = kSegmentMagic;
  h->map_length = length;
  h->user_offset = offset;
  mark_segment(base, true);
}

// Carves up to want blocks from the class's current segment (lock held).
Chain carve(ClassDepot& d, unsigned cls, std::uint32_t want) noexcept {
  const std::size_t size = class_size(cls);
  if (d.bump == nullptr || static_cast<std::size_t>(d.end - d.bump) < size) {
    char* seg = map_aligned(kSegmentSize);
    if (seg == nullptr) return {};
    init_header(seg, cls, kSegmentSize, kSegmentHeader);
    g_segments.fetch_add(1, std::memory_order_relaxed);
    d.bump = seg + kSegmentHeader;
    d.end = seg + kSegmentSize;
  }
  std::size_t avail = static_cast<std::size_t>(d.end - d.bump) / size;
  const std::uint32_t n = avail < want ? static_cast<std::uint32_t>(avail) : want;
  char* first = d.bump;
  poison(first, std::size_t{n} * size);
  for (std::uint32_t i = 0; i + 1 < n; ++i) store_next(first + i * size, first + (i + 1) * size);
  store_next(first + (n - 1) * size, nullptr);
  d.bump += std::size_t{n} * size;
  d.carved.fetch_add(n, std::memory_order_relaxed);
  return {first, n};
}

}  // namespace

[[noreturn]] void fatal(const char* what, const void* p) noexcept {
  char buf[160];
  const int len = std::snprintf(buf, sizeof buf, "spool alloc: %s %p\n", what, p);
  if (len > 0) {
    [[maybe_unused]] const ssize_t w =
        write(2, buf, static_cast<std::size_t>(len) < sizeof buf ? static_cast<std::size_t>(len)
                                                                 : sizeof buf - 1);
  }
  std::abort();
}

Chain backend_take(unsigned cls, std::uint32_t want) noexcept {
  ClassDepot& d = g_depots[cls];
  if (want == 0) want = 1;
  SpinGuard g(d.lock);
  if (d.nchains > 0) {
    DepotChain c = d.chains[--d.nchains];
    if (c.n > want + want / 2) {  // too long: split off `want` blocks
      void* t = c.head;
      for (std::uint32_t i = 1; i < want; ++i) t = load_next(t);
      void* rest = load_next(t);
      store_next(t, nullptr);
      d.chains[d.nchains++] = DepotChain{rest, c.tail, c.n - want};
      c.n = want;
    } else {
      store_next(c.tail, nullptr);
    }
    d.depot.fetch_sub(c.n, std::memory_order_relaxed);
    return {c.head, c.n};
  }
  return carve(d, cls, want);
}

void backend_give(unsigned cls, void* head, void* tail, std::uint32_t n) noexcept {
  if (n == 0) return;
  ClassDepot& d = g_depots[cls];
  SpinGuard g(d.lock);
  if (d.nchains == kDepotChains) {  // full: splice onto the last chain
    DepotChain& last = d.chains[kDepotChains - 1];
    store_next(tail, last.head);
    last.head = head;
    last.n += n;
  } else {
    d.chains[d.nchains++] = DepotChain{head, tail, n};
  }
  d.depot.fetch_add(n, std::memory_order_relaxed);
}

void* large_alloc(std::size_t size, std::size_t alignment) noexcept {
  const std::size_t offset = alignment > kSegmentHeader ? alignment : kSegmentHeader;
  const std::size_t ps = page_size();
  if (alignment > kMaxAlignment || size > (std::size_t{1} << 46)) {
    errno = ENOMEM;
    return nullptr;
  }
  const std::size_t length = (offset + size + ps - 1) & ~(ps - 1);
  char* base = map_aligned(length);
  if (base == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  init_header(base, kLargeClass, length, offset);
  g_large_allocs.fetch_add(1, std::memory_order_relaxed);
  g_large_live.fetch_add(length, std::memory_order_relaxed);
  return base + offset;
}

void large_free(void* p) noexcept {
  auto* h = segment_of(p);
  if (h->magic != kSegmentMagic || reinterpret_cast<char*>(h) + h->user_offset != p) {
    fatal("free of a pointer that is not a large block it allocated:", p);
  }
  const std::size_t length = h->map_length;
  mark_segment(h, false);
  g_large_live.fetch_sub(length, std::memory_order_relaxed);
  munmap(h, length);
}

std::size_t large_usable(const void* p) noexcept {
  const auto* h = segment_of(p);
  return h->map_length - h->user_offset;
}

bool segment_registered(const void* p) noexcept {
  const std::uintptr_t idx = reinterpret_cast<std::uintptr_t>(p) >> kSegmentShift;
  if (idx / 64 >= kBitmapWords) return false;
  return (g_segment_bits[idx / 64].load(std::memory_order_acquire) >> (idx % 64)) & 1U;
}

BackendClassCounters backend_class_counters(unsigned cls) noexcept {
  const ClassDepot& d = g_depots[cls];
  return {d.carved.load(std::memory_order_relaxed), d.depot.load(std::memory_order_relaxed)};
}
std::uint64_t backend_segments() noexcept { return g_segments.load(std::memory_order_relaxed); }
std::uint64_t backend_large_allocs() noexcept {
  return g_large_allocs.load(std::memory_order_relaxed);
}
std::uint64_t backend_large_bytes_live() noexcept {
  return g_large_live.load(std::memory_order_relaxed);
}

void backend_fork_prepare() noexcept {
  for (auto& d : g_depots) d.lock.lock();
}
void backend_fork_parent() noexcept {
  for (auto& d : g_depots) d.lock.unlock();
}
void backend_fork_child() noexcept {
  for (auto& d : g_depots) d.lock.reset();
}

}  // namespace spool::alloc::detail
