// The persistent kernel's launch shape (cu_grid.hpp): blocks of the grid as
// a pure function of SMs, occupancy and SPOOL_PERSISTENT_GROUPS, and the
// largest range a queue slot carries.
#include <gtest/gtest.h>

#include "cu_grid.hpp"

namespace {

using spool::cuda::persistent_chunk;
using spool::cuda::persistent_grid;

TEST(CudaGrid, TwoBlocksPerSmWhereTheyFit) {
  EXPECT_EQ(persistent_grid(132, 32, 0), 264u);  // H200, 64-thread blocks
  EXPECT_EQ(persistent_grid(108, 16, 0), 216u);  // A100
  EXPECT_EQ(persistent_grid(132, 1, 0), 132u);   // a large block: one per SM
  EXPECT_EQ(persistent_grid(132, 2, 0), 264u);
}

TEST(CudaGrid, NeverTheOccupancyTimesSmsPollingStorm) {
  // The former rule, 0.75 x occupancy x SMs: 3168 leaders on an H200.
  const std::uint32_t old_rule = 132 * 32 - (132 * 32) / 4;
  EXPECT_EQ(old_rule, 3168u);
  EXPECT_LE(persistent_grid(132, 32, 0), 2u * 132u);
}

TEST(CudaGrid, KernelThatDoesNotFitStillGetsOneBlockPerSmAndTheLaunchSaysWhy) {
  EXPECT_EQ(persistent_grid(132, 0, 0), 132u);
  EXPECT_EQ(persistent_grid(0, 4, 0), 2u);  // a device reporting no SMs: at least one SM's worth
}

TEST(CudaGrid, RequestedBlocksWinWhateverFits) {
  EXPECT_EQ(persistent_grid(132, 32, 1), 1u);
  EXPECT_EQ(persistent_grid(132, 32, 100000), 100000u);  // far more than can be resident
  EXPECT_EQ(persistent_grid(132, 0, 7), 7u);
}

TEST(CudaGrid, ChunkIsTwoHundredFiftySixIterationsOfEveryThread) {
  EXPECT_EQ(persistent_chunk(64), 64u * 256u);
  EXPECT_EQ(persistent_chunk(1024), 1024u * 256u);
  EXPECT_EQ(persistent_chunk(0), 256u);
  EXPECT_EQ(persistent_chunk(0xffffffffu), 0x80000000u);  // capped, never wraps
}

}  // namespace
