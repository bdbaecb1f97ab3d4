// Spool CUDA kernel ABI, shared by the device code (kernels/cuda/*.cu*) and
// the host backend (runtime/backends/cuda). Plain C++: no CUDA headers.
//
// * Argument structs: each built-in kernel's arguments, passed by value to
//   the per-item kernel and copied into a queue slot for the persistent one.
//   Buffers are device pointers (8 bytes), scalars 4 bytes, the same layout
//   the GLSL kernels use for their push constants.
// * The persistent work-queue ring: a control block of 16 words followed by
//   `capacity` slots of 32 words, in mapped pinned host memory. Same layout
//   as runtime/backends/vulkan/src/vk_ring.hpp.
#pragma once

#include <cstdint>

namespace spool::cuda::abi {

struct EmptyArgs { std::uint32_t unused; };
struct SaxpyArgs { float* x; float* y; float a; std::uint32_t n; };
struct ReduceStepArgs { float* in_v; float* out_v; std::uint32_t n; };
struct StencilStepArgs { float* src; float* dst; float alpha; std::uint32_t n; };
struct TallyArgs { std::uint32_t* counts; std::uint32_t item_id; };
struct SpinArgs { std::uint32_t* gate; std::uint32_t* marks; std::uint32_t item_id; std::uint32_t limit; };

namespace ring {
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
}  // namespace ring

}  // namespace spool::cuda::abi
