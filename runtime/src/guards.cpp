// Guard bytes of validation mode (spool/backend/guards.hpp): layout, fill,
// check. Backends call these on host memory (mapped, or copied back).
#include "spool/backend/guards.hpp"

#include <algorithm>
#include <cstring>

namespace spool::backend {

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMinBack = 64 * 1024;
constexpr std::uint64_t kMaxBack = 16 * 1024 * 1024;

// Offsets (in `p`, n bytes) of the first and last byte that is not kGuardByte;
// count of such bytes.
struct Scan {
  std::uint64_t count = 0, first = 0, last = 0;
};

Scan scan(const std::byte* p, std::uint64_t n) noexcept {
  Scan s;
  std::uint64_t word = 0;
  std::memset(&word, kGuardByte, sizeof word);
  std::uint64_t i = 0;
  while (i < n) {
    // Whole words first: the common case is an intact guard.
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w == word) {
        i += 8;
        continue;
      }
    }
    const std::uint64_t end = std::min(n, i + 8);
    for (; i < end; ++i) {
      if (static_cast<unsigned char>(p[i]) != kGuardByte) {
        if (s.count == 0) s.first = i;
        s.last = i;
        ++s.count;
      }
    }
  }
  return s;
}

}  // namespace

GuardLayout guard_layout(std::uint64_t bytes) noexcept {
  const std::uint64_t back = std::clamp(bytes, kMinBack, kMaxBack);
  return GuardLayout{kPage, (back + kPage - 1) / kPage * kPage};
}

void fill_guard(void* p, std::uint64_t n) noexcept { std::memset(p, kGuardByte, n); }

GuardDamage inspect_guards(const std::byte* front, const std::byte* back, std::uint64_t bytes,
                           GuardLayout layout) noexcept {
  GuardDamage d;
  const Scan f = scan(front, layout.front);
  const Scan b = scan(back, layout.back);
  d.bytes_before = f.count;
  d.bytes_after = b.count;
  const auto at_front = [&](std::uint64_t i) { return static_cast<std::int64_t>(i) - static_cast<std::int64_t>(layout.front); };
  const auto at_back = [&](std::uint64_t i) { return static_cast<std::int64_t>(bytes + i); };
  if (f.count != 0) {
    d.first = at_front(f.first);
    d.last = at_front(f.last);
    d.reached_edge = f.first == 0;
  }
  if (b.count != 0) {
    if (f.count == 0) d.first = at_back(b.first);
    d.last = at_back(b.last);
    d.reached_edge = d.reached_edge || b.last + 1 == layout.back;
  }
  return d;
}

GuardDamage check_and_restore_guards(std::byte* payload, std::uint64_t bytes, GuardLayout layout) noexcept {
  std::byte* front = payload - layout.front;
  std::byte* back = payload + bytes;
  const GuardDamage d = inspect_guards(front, back, bytes, layout);
  if (d.bytes_before != 0) fill_guard(front, layout.front);
  if (d.bytes_after != 0) fill_guard(back, layout.back);
  return d;
}

}  // namespace spool::backend
