// Segment layout: how free() finds a block's class in O(1) without a size.
//
// All pooled memory lives in 4 MiB segments aligned to 4 MiB. Each segment
// serves one size class; its first page is a header whose first byte is that
// class. Masking a block pointer with ~(4 MiB - 1) gives the header, so the
// class is one AND and one byte load away. A large allocation gets its own
// mapping, also starting at a 4 MiB boundary, whose header byte is
// kLargeClass and which records the mapping length.
// Segments are 4 MiB whatever the class: a 1 MiB class fits three blocks
// after the header page (address space is cheap; only touched pages count).
#pragma once

#include <cstddef>
#include <cstdint>

#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {

inline constexpr std::size_t kSegmentShift = 22;
inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;  // 4 MiB
inline constexpr std::size_t kSegmentHeader = 4096;  // first block starts here
inline constexpr std::uint32_t kSegmentMagic = 0x5350'4F4CU;  // "SPOL"

struct SegmentHeader {
  std::uint8_t cls;           // must stay the first byte: read by the hot path
  std::uint8_t recycled;      // large: the mapping was reused (its pages are not zero)
  std::uint8_t pad[2];
  std::uint32_t magic;        // kSegmentMagic
  std::size_t map_length;     // large: bytes mapped from the header on
  std::size_t user_offset;    // large: where the user block starts
};
static_assert(sizeof(SegmentHeader) <= kSegmentHeader);

inline SegmentHeader* segment_of(const void* p) noexcept {
  return reinterpret_cast<SegmentHeader*>(reinterpret_cast<std::uintptr_t>(p) &
                                          ~(kSegmentSize - 1));
}

inline unsigned segment_class(const void* p) noexcept {
  return *reinterpret_cast<const std::uint8_t*>(segment_of(p));
}

}  // namespace spool::alloc::detail
