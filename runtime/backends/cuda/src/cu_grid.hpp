// The persistent kernel's launch shape, as pure functions of what the device
// reports (host-only, tested without a GPU).
//
// Grid: about one to two blocks per SM. Each block's leader polls the ring
// over PCIe when idle, and a wide grid buys nothing for the small items the
// persistent mode is for: 0.75 x occupancy x SMs of 64-thread blocks would be
// ~3000 polling leaders on an H200 (132 SMs, 32 resident blocks per SM), a
// polling storm on the bus. Two blocks per SM (one where only one fits) keep
// every SM busy with items, and a second block on an SM picks up a new slot
// while the first finishes its range. Nothing assumes the blocks are
// co-resident (blocks claim slots independently; gates never make a block
// wait inside a slot), so SPOOL_PERSISTENT_GROUPS may ask for any count,
// also far more blocks than fit.
//
// Chunk: a slot carries at most block x 256 indices of an item, so a large
// item spreads over many blocks (each slot is one block's work) while a
// slot's fixed cost (claim, one read of the slot, DONE) stays small against
// 256 iterations of every thread.
#pragma once

#include <algorithm>
#include <cstdint>

namespace spool::cuda {

inline constexpr std::uint32_t kPersistentBlocksPerSm = 2;
inline constexpr std::uint32_t kChunkIterations = 256;

// Blocks of the persistent grid on a device with `sms` SMs where
// `occupancy` blocks of the persistent kernel fit per SM (0 when it does not
// fit at all: the launch then reports why). `requested`
// (SPOOL_PERSISTENT_GROUPS) wins when not 0.
constexpr std::uint32_t persistent_grid(std::uint32_t sms, int occupancy, std::uint32_t requested) noexcept {
  if (requested != 0) return requested;
  const std::uint32_t fit = occupancy > 0 ? static_cast<std::uint32_t>(occupancy) : 1u;
  return std::max<std::uint32_t>(sms, 1) * std::min(fit, kPersistentBlocksPerSm);
}

// The largest range of an item one queue slot carries (PersistentDriver::max_chunk).
constexpr std::uint32_t persistent_chunk(std::uint32_t block) noexcept {
  const std::uint64_t c = std::uint64_t{std::max<std::uint32_t>(block, 1)} * kChunkIterations;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(c, 0x80000000ull));
}

}  // namespace spool::cuda
