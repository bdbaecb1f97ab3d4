// Size classes of the pool allocator. Pure constexpr arithmetic, no state;
// shared by every box (the learner needs class sizes to bound batches).
//
//   classes  0..63 : 16 B steps, 16 .. 1024 B           (cls = (size - 1) >> 4)
//   classes 64..103: four classes per doubling, 1280 B .. 1 MiB
//   larger         : straight to the OS (one mapping per allocation, a few
//                    freed mappings kept for reuse)
//
// Every class size is a multiple of 16; the powers of two among them
// (16, 32, ..., 1 MiB) are classes, which aligned allocation relies on.
// From 16 KiB on, class sizes are multiples of the 4 KiB page, so those
// blocks start on page boundaries (their pages can be returned to the OS).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace spool::alloc {

inline constexpr std::size_t kMinBlock = 16;
inline constexpr std::size_t kSmallMax = 1024;          // end of the 16-byte steps
inline constexpr std::size_t kMaxPooled = 1024 * 1024;  // largest pooled size
inline constexpr unsigned kSmallClasses = 64;
inline constexpr unsigned kClassCount = 104;
// Class byte of a segment that holds one large (OS-mapped) allocation.
inline constexpr unsigned kLargeClass = 0xFF;

// Block size of class `cls` (cls < kClassCount).
[[nodiscard]] constexpr std::size_t class_size(unsigned cls) noexcept {
  if (cls < kSmallClasses) return (std::size_t{cls} + 1) * 16;
  const unsigned k = (cls - kSmallClasses) / 4;  // doubling index, 0..9
  const unsigned j = (cls - kSmallClasses) % 4;  // step within the doubling
  return (std::size_t{1024} << k) + (std::size_t{256} << k) * (j + 1);
}

// Class of a request of `size` bytes, 1 <= size <= kMaxPooled.
[[nodiscard]] constexpr unsigned class_of(std::size_t size) noexcept {
  const std::size_t s = size - 1;
  if (s < kSmallMax) return static_cast<unsigned>(s >> 4);
  const unsigned b = static_cast<unsigned>(std::bit_width(s));  // 11..20
  const unsigned j = static_cast<unsigned>((s >> (b - 3)) & 3);
  return kSmallClasses + (b - 11) * 4 + j;
}

static_assert(class_size(0) == 16 && class_size(63) == 1024);
static_assert(class_size(64) == 1280 && class_size(67) == 2048);
static_assert(class_size(kClassCount - 1) == kMaxPooled);
static_assert(class_of(1) == 0 && class_of(16) == 0 && class_of(17) == 1);
static_assert(class_of(1024) == 63 && class_of(1025) == 64 && class_of(65536) == 87);
static_assert(class_size(87) == 65536 && class_size(88) == 80 * 1024);
static_assert(class_of(kMaxPooled) == kClassCount - 1 && class_of(65537) == 88);

}  // namespace spool::alloc
