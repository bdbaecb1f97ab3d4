#include "os.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "backend.hpp"
#include "spool/alloc/detail/segment.hpp"

namespace spool::alloc::detail {
namespace {

// One bit per 4 MiB of a 47-bit address space (4 MiB of zero pages in .bss).
constexpr std::size_t kBitmapWords = (std::size_t{1} << (47 - kSegmentShift)) / 64;
constinit std::atomic<std::uint64_t> g_segment_bits[kBitmapWords];

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

}  // namespace

std::size_t page_size() noexcept {
  static const std::size_t ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

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

void* map_pages(std::size_t length) noexcept {
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void unmap(void* p, std::size_t length) noexcept { munmap(p, length); }

void release(void* p, std::size_t length) noexcept {
  if (length != 0) madvise(p, length, MADV_DONTNEED);
}

std::uint64_t now_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000;
}

void init_header(char* base, unsigned cls, std::size_t length, std::size_t offset) noexcept {
  auto* h = reinterpret_cast<SegmentHeader*>(base);
  h->cls = static_cast<std::uint8_t>(cls);
  h->magic = kSegmentMagic;
  h->map_length = length;
  h->user_offset = offset;
  mark_segment(base, true);
}

void unregister_segment(const void* base) noexcept { mark_segment(base, false); }

bool segment_registered(const void* p) noexcept {
  const std::uintptr_t idx = reinterpret_cast<std::uintptr_t>(p) >> kSegmentShift;
  if (idx / 64 >= kBitmapWords) return false;
  return (g_segment_bits[idx / 64].load(std::memory_order_acquire) >> (idx % 64)) & 1U;
}

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

}  // namespace spool::alloc::detail
