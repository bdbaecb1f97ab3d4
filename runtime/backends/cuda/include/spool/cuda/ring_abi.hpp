// The persistent work-queue ring of the CUDA backend: the one definition of
// its layout, shared by Spool's host code (g++, C++20), Spool's built-in
// kernels and applications' kernels (nvcc, C++17; spool/cuda/kernel_wrap.cuh).
// Plain C++: no CUDA headers. Same layout as the Vulkan backend's ring
// (runtime/backends/vulkan/src/vk_ring.hpp).
//
// A control block of 16 words followed by `capacity` slots of 32 words, in
// mapped pinned host memory. A slot holds a header (status, seq, grid, flags,
// item) and the item's packed argument block (at most kArgsBytes bytes).
#pragma once

#include <cstdint>

namespace spool::cuda::abi::ring {

// Control block words.
inline constexpr std::uint32_t kHead = 0, kTail = 1, kDone = 2, kPark = 3, kShutdown = 4,
                               kRunning = 5, kHeartbeat = 6, kKernelId = 7, kCapacity = 8,
                               kIdleLimit = 9;
inline constexpr std::uint32_t kControlWords = 16;
inline constexpr std::uint32_t kControlBytes = kControlWords * 4;
// Slots: header words, then argument words.
inline constexpr std::uint32_t kSlotWords = 32;
inline constexpr std::uint32_t kSlotBytes = kSlotWords * 4;
inline constexpr std::uint32_t kStatus = 0, kSeq = 1, kGrid = 2, kFlags = 3, kItem = 4;
inline constexpr std::uint32_t kArgsWord = 8;
inline constexpr std::uint32_t kArgsBytes = (kSlotWords - kArgsWord) * 4;  // 96
inline constexpr std::uint32_t kFlagSequential = 1;
// Slot states: empty -> published (host) -> claimed (device) -> done (device)
// -> empty (host reaps). The host may revoke a published slot (CAS), never a
// claimed one; exactly one side wins the CAS on the status word.
inline constexpr std::uint32_t kEmpty = 0, kPublished = 1, kClaimed = 2, kDoneState = 3,
                               kRevoked = 4;

}  // namespace spool::cuda::abi::ring
