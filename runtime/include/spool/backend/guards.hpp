// Validation mode (SPOOL_VALIDATE=1): guard bytes around every buffer Spool
// allocates, checked after each batch, so that a kernel writing out of bounds
// fails its batch's verdict (naming the kernel and the argument) instead of
// silently corrupting a neighbour -- or, on CPU devices such as lavapipe whose
// device memory is host memory, the process heap.
//
// Layout of one guarded allocation: [front guard][payload][back guard]. The
// buffer's device address, host pointer and size are the payload's. Guards
// are filled with kGuardByte, chosen so that the guard reads as a moderate
// number in every common type (0.747f, 1.81 half, 4.8e-4 double, 1061109567
// int): an out-of-bounds read-modify-write (y[i] += a * x[i]) changes it,
// where a huge value (0xFD.. = -4.2e37f) would absorb the addition. The back guard is sized so that the typical
// overrun -- an index bounded by the wrong count -- lands in it: writes up to
// max(64 KiB, the payload's size) past the end (capped at 16 MiB) and up to
// 4 KiB before the start are caught and cannot reach other memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace spool::backend {

inline constexpr unsigned char kGuardByte = 0x3F;

struct GuardLayout {
  std::uint64_t front = 0;  // bytes before the payload (keeps its alignment)
  std::uint64_t back = 0;   // bytes after it
};

// The guards of a payload of `bytes`: front 4 KiB, back clamp(bytes, 64 KiB,
// 16 MiB) rounded up to 4 KiB.
GuardLayout guard_layout(std::uint64_t bytes) noexcept;

// What changed in a buffer's guards since they were filled.
struct GuardDamage {
  std::uint64_t bytes_before = 0;  // changed bytes in the front guard
  std::uint64_t bytes_after = 0;   // changed bytes in the back guard
  // Changed bytes span [first, last] relative to the payload's start
  // (negative: before it; >= payload size: after it).
  std::int64_t first = 0, last = 0;
  // The outermost guard byte changed: the write may have gone further.
  bool reached_edge = false;
  bool any() const noexcept { return bytes_before + bytes_after != 0; }
};

// Fills n bytes at p with kGuardByte.
void fill_guard(void* p, std::uint64_t n) noexcept;

// Checks the guards around `payload` (host memory of `bytes`, guards per
// `layout` on both sides), refills them, and says what had changed.
GuardDamage check_and_restore_guards(std::byte* payload, std::uint64_t bytes, GuardLayout layout) noexcept;

// As above for guards already copied to host memory (front: layout.front
// bytes, back: layout.back bytes), e.g. from device-only memory. Does not
// refill anything.
GuardDamage inspect_guards(const std::byte* front, const std::byte* back, std::uint64_t bytes,
                           GuardLayout layout) noexcept;

}  // namespace spool::backend
