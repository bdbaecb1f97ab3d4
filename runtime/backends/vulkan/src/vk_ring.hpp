// Host view of the persistent work queue. Mirrors kernels/include/wrap_persistent.glsl.
#pragma once

#include <atomic>
#include <cstdint>

namespace spool::vulkan::ring {

// Control block words.
inline constexpr std::uint32_t kHead = 0, kTail = 1, kDone = 2, kPark = 3, kShutdown = 4,
                               kRunning = 5, kHeartbeat = 6, kKernelId = 7, kCapacity = 8,
                               kIdleLimit = 9;
inline constexpr std::uint32_t kControlWords = 16;
inline constexpr std::uint32_t kControlBytes = kControlWords * 4;
// Slots.
inline constexpr std::uint32_t kSlotWords = 32;
inline constexpr std::uint32_t kSlotBytes = kSlotWords * 4;
inline constexpr std::uint32_t kStatus = 0, kSeq = 1, kGrid = 2, kFlags = 3, kItem = 4;
inline constexpr std::uint32_t kArgsWord = 8;
inline constexpr std::uint32_t kFlagSequential = 1;
// Slot states.
inline constexpr std::uint32_t kEmpty = 0, kPublished = 1, kClaimed = 2, kDone_ = 3, kRevoked = 4;

inline std::uint32_t load(std::uint32_t* w) {
  return std::atomic_ref<std::uint32_t>(*w).load(std::memory_order_acquire);
}
inline void store(std::uint32_t* w, std::uint32_t v) {
  std::atomic_ref<std::uint32_t>(*w).store(v, std::memory_order_release);
}
inline bool cas(std::uint32_t* w, std::uint32_t expect, std::uint32_t v) {
  return std::atomic_ref<std::uint32_t>(*w).compare_exchange_strong(expect, v, std::memory_order_acq_rel);
}

}  // namespace spool::vulkan::ring
