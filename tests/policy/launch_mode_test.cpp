#include "spool/policy/launch_mode.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace {

using spool::policy::choose_launch_mode;
using spool::policy::index_of;
using spool::policy::LaunchMode;
using spool::policy::LaunchModeInputs;
using spool::policy::ModeOverhead;
using spool::policy::u128;

constexpr auto kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr auto kU64Max = std::numeric_limits<std::uint64_t>::max();

// The seed's two-mode inputs: launches vs persistent, recorded unavailable,
// no per-item queue cost.
constexpr LaunchModeInputs seed(std::uint32_t n, std::uint64_t launch_ns, std::uint64_t item_ns,
                                std::uint64_t setup_ns) {
  LaunchModeInputs in{};
  in.batch_size = n;
  in.per_item_kernel_ns = item_ns;
  in.launches = ModeOverhead{true, 0, launch_ns};
  in.persistent = ModeOverhead{true, setup_ns, 0};
  return in;
}

constexpr LaunchModeInputs three(std::uint32_t n, std::uint64_t L, std::uint64_t R, std::uint64_t r,
                                 std::uint64_t P, std::uint64_t p) {
  LaunchModeInputs in{};
  in.batch_size = n;
  in.launches = ModeOverhead{true, 0, L};
  in.recorded = ModeOverhead{true, R, r};
  in.persistent = ModeOverhead{true, P, p};
  return in;
}

static_assert(choose_launch_mode(seed(100, 5'000, 1'000, 50'000)).mode == LaunchMode::persistent);

// ---- the seed policy's cases, with recorded unavailable ----

TEST(LaunchModeSeed, SingleLaunchIsAlwaysLaunches) {
  EXPECT_EQ(choose_launch_mode(seed(1, 5'000, 1'000, 1'000)).mode, LaunchMode::launches);
}

TEST(LaunchModeSeed, ZeroBatchIsLaunches) {
  const auto d = choose_launch_mode(seed(0, 5'000, 1'000, 50'000));
  EXPECT_EQ(d.mode, LaunchMode::launches);
  EXPECT_EQ(d.savings_ns, 0u);
}

TEST(LaunchModeSeed, SmallBatchBelowAmortisationIsLaunches) {
  EXPECT_EQ(choose_launch_mode(seed(5, 5'000, 1'000, 50'000)).mode, LaunchMode::launches);
}

TEST(LaunchModeSeed, BatchAtExactBreakEvenIsLaunches) {
  const auto d = choose_launch_mode(seed(10, 5'000, 1'000, 50'000));
  EXPECT_EQ(d.mode, LaunchMode::launches);
  EXPECT_EQ(d.predicted_ns[0], d.predicted_ns[2]);
}

TEST(LaunchModeSeed, LargeBatchPicksPersistentWithSavings) {
  const auto d = choose_launch_mode(seed(100, 5'000, 1'000, 50'000));
  EXPECT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_EQ(d.savings_ns, 450'000u);
}

TEST(LaunchModeSeed, PortableOverheadsPickPersistentAtModestBatch) {
  const auto d = choose_launch_mode(seed(10, 25'000, 5'000, 200'000));
  EXPECT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_EQ(d.savings_ns, 50'000u);
}

TEST(LaunchModeSeed, ZeroLaunchOverheadIsLaunches) {
  EXPECT_EQ(choose_launch_mode(seed(1000, 0, 100, 50'000)).mode, LaunchMode::launches);
}

TEST(LaunchModeSeed, SavingsStrictlyPositiveForPersistent) {
  const auto d = choose_launch_mode(seed(1000, 5'000, 1'000, 50'000));
  ASSERT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_GT(d.savings_ns, 0u);
}

TEST(LaunchModeSeed, ItemDurationDoesNotAffectDecision) {
  const auto small = choose_launch_mode(seed(100, 5'000, 100, 50'000));
  const auto large = choose_launch_mode(seed(100, 5'000, 1'000'000, 50'000));
  EXPECT_EQ(small.mode, large.mode);
  EXPECT_EQ(small.savings_ns, large.savings_ns);
}

TEST(LaunchModeSeed, WidenedArithmeticPreservesExtremeSavings) {
  const auto d = choose_launch_mode(seed(kU32Max, kU64Max / 2, 1, 50'000));
  ASSERT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_EQ(d.savings_ns, u128{kU32Max} * u128{kU64Max / 2} - 50'000);
}

// ---- three modes ----

TEST(LaunchMode, MissingLaunchMeasurementIsLaunches) {
  auto in = three(1000, 5'000, 1'000, 10, 1'000, 1);
  in.launches.measured = false;
  const auto d = choose_launch_mode(in);
  EXPECT_EQ(d.mode, LaunchMode::launches);
  EXPECT_EQ(d.savings_ns, 0u);
}

TEST(LaunchMode, MissingModesAreNeverChosen) {
  auto in = three(1000, 5'000, 1'000, 10, 1'000, 1);
  in.persistent.measured = false;
  auto d = choose_launch_mode(in);
  EXPECT_FALSE(d.available[index_of(LaunchMode::persistent)]);
  EXPECT_EQ(d.mode, LaunchMode::recorded);
  in.recorded.measured = false;
  d = choose_launch_mode(in);
  EXPECT_EQ(d.mode, LaunchMode::launches);
}

TEST(LaunchMode, PredictsEveryModeWithTheDesignFormulas) {
  auto in = three(100, 30'000, 20'000, 5'000, 200'000, 700);
  in.per_item_kernel_ns = 1'000;
  const auto d = choose_launch_mode(in);
  EXPECT_EQ(d.predicted_ns[0], u128{100} * (30'000 + 1'000));
  EXPECT_EQ(d.predicted_ns[1], u128{20'000} + 100 * (5'000 + 1'000));
  EXPECT_EQ(d.predicted_ns[2], u128{200'000} + 100 * (700 + 1'000));
  EXPECT_EQ(d.mode, LaunchMode::persistent);  // 370k < 620k < 3.1M
  EXPECT_EQ(d.savings_ns, d.predicted_ns[0] - d.predicted_ns[2]);
}

TEST(LaunchMode, ResidentPersistentKernelPaysNoSetup) {
  auto in = three(4, 30'000, 20'000, 5'000, 1'000'000, 700);
  EXPECT_EQ(choose_launch_mode(in).mode, LaunchMode::recorded);
  in.persistent_resident = true;
  const auto d = choose_launch_mode(in);
  EXPECT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_EQ(d.predicted_ns[2], u128{4} * 700);
}

TEST(LaunchMode, RecordedWinsWhenReplayIsCheaperThanQueue) {
  // Pinned-to-one-core lavapipe shape: replay 0.85 us/dispatch, queue 2.5 us/item.
  const auto d = choose_launch_mode(three(1000, 21'000, 30'000, 850, 150'000, 2'500));
  EXPECT_EQ(d.mode, LaunchMode::recorded);
}

TEST(LaunchMode, TieBetweenRecordedAndPersistentGoesToRecorded) {
  // recorded: 1000 + 10*100 = 2000; persistent: 0 + 10*200 = 2000; launches 10*1000.
  const auto d = choose_launch_mode(three(10, 1'000, 1'000, 100, 0, 200));
  EXPECT_EQ(d.predicted_ns[1], d.predicted_ns[2]);
  EXPECT_EQ(d.mode, LaunchMode::recorded);
}

TEST(LaunchMode, TieBetweenLaunchesAndRecordedGoesToLaunches) {
  // launches 10*1000 = 10000; recorded 5000 + 10*500 = 10000.
  const auto d = choose_launch_mode(three(10, 1'000, 5'000, 500, 1'000'000, 900));
  EXPECT_EQ(d.mode, LaunchMode::launches);
}

TEST(LaunchMode, OneNanosecondPastBreakEvenSwitches) {
  const auto d = choose_launch_mode(three(10, 1'000, 4'999, 500, 1'000'000, 900));
  EXPECT_EQ(d.mode, LaunchMode::recorded);
  EXPECT_EQ(d.savings_ns, 1u);
}

TEST(LaunchMode, SingleItemIsLaunchesEvenWhenOthersLookCheaper) {
  auto in = three(1, 50'000, 0, 0, 0, 0);
  in.persistent_resident = true;
  EXPECT_EQ(choose_launch_mode(in).mode, LaunchMode::launches);
}

TEST(LaunchMode, ExtremeInputsDoNotOverflow) {
  const auto d = choose_launch_mode(three(kU32Max, kU64Max, kU64Max, kU64Max, kU64Max, kU64Max - 1));
  // launches: n*L; recorded: R + n*r (larger); persistent: P + n*(L-1).
  const u128 launches = u128{kU32Max} * kU64Max;
  EXPECT_EQ(d.predicted_ns[0], launches);
  EXPECT_EQ(d.predicted_ns[1], u128{kU64Max} + launches);
  EXPECT_EQ(d.predicted_ns[2], u128{kU64Max} + u128{kU32Max} * (kU64Max - 1));
  // persistent - launches = P - n > 0 and recorded > launches: launches wins.
  EXPECT_EQ(d.mode, LaunchMode::launches);
}

TEST(LaunchMode, ExtremeKernelTimeCancelsAcrossModes) {
  auto in = three(kU32Max, 5'000, 20'000, 1'000, 50'000, 100);
  const auto base = choose_launch_mode(in);
  in.per_item_kernel_ns = kU64Max;
  const auto big = choose_launch_mode(in);
  EXPECT_EQ(base.mode, big.mode);
  EXPECT_EQ(base.savings_ns, big.savings_ns);
}

TEST(LaunchMode, ParsesAndNamesModes) {
  LaunchMode m{};
  EXPECT_TRUE(spool::policy::parse_launch_mode("recorded", m));
  EXPECT_EQ(m, LaunchMode::recorded);
  EXPECT_FALSE(spool::policy::parse_launch_mode("graph", m));
  EXPECT_EQ(spool::policy::to_string(LaunchMode::persistent), "persistent");
}

}  // namespace
