#include "spool/policy/refill_bandit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace {

namespace p = spool::policy;

static_assert(p::isqrt(0) == 0 && p::isqrt(1) == 1 && p::isqrt(15) == 3 && p::isqrt(16) == 4);
static_assert(p::ln_q16(1) == 0);
static_assert(p::arm_for_count(1) == 0 && p::arm_for_count(16) == 3 && p::arm_for_count(1000) == 6);

TEST(RefillBandit, IsqrtIsExactFloorForLargeValues) {
  const p::u128 big = (p::u128{1} << 100) + 12345;
  const std::uint64_t r = p::isqrt(big);
  EXPECT_LE(p::u128{r} * r, big);
  EXPECT_GT(p::u128{r + 1} * (r + 1), big);
  EXPECT_EQ(p::isqrt(~p::u128{0}), ~std::uint64_t{0});
}

TEST(RefillBandit, LnIsAccurateToAFewUnitsInQ16) {
  for (std::uint64_t n : {2ULL, 3ULL, 10ULL, 1000ULL, 123456789ULL, 1ULL << 62}) {
    const double want = std::log(static_cast<double>(n)) * 65536.0;
    EXPECT_NEAR(static_cast<double>(p::ln_q16(n)), want, 8.0) << n;
  }
}

TEST(RefillBandit, BonusShrinksWithPullsAndGrowsWithTotal) {
  EXPECT_GT(p::ucb1_bonus_q16(100, 1), p::ucb1_bonus_q16(100, 10));
  EXPECT_GT(p::ucb1_bonus_q16(1000, 10), p::ucb1_bonus_q16(100, 10));
  // sqrt(2 ln 100 / 10) = 0.9597
  EXPECT_NEAR(static_cast<double>(p::ucb1_bonus_q16(100, 10)) / 65536.0, 0.9597, 0.001);
}

TEST(RefillBandit, RewardGainsAnEighthPerDoublingUpToTheTargetAndPaysForMemory) {
  const p::RefillRewardInputs half{50, 0, 100, 1000};
  EXPECT_NEAR(static_cast<double>(p::refill_reward_q16(half)), p::kQ16 * 7.0 / 8.0, 4.0);
  const p::RefillRewardInputs quarter{25, 0, 100, 1000};
  EXPECT_NEAR(static_cast<double>(p::refill_reward_q16(quarter)), p::kQ16 * 6.0 / 8.0, 4.0);
  EXPECT_EQ(p::refill_reward_q16({100, 0, 100 << 9, 1000}), 0u);  // 512x short: nothing
  const p::RefillRewardInputs at{100, 0, 100, 1000};
  const p::RefillRewardInputs beyond{10'000, 0, 100, 1000};
  EXPECT_EQ(p::refill_reward_q16(at), p::kQ16);
  EXPECT_EQ(p::refill_reward_q16(beyond), p::kQ16);
  const p::RefillRewardInputs costly{10'000, 1000, 100, 1000};  // full batch: -1/4
  EXPECT_EQ(p::refill_reward_q16(costly), p::kQ16 * 3 / 4);
  EXPECT_EQ(p::refill_reward_q16({0, 1000, 100, 1000}), 0u);
  EXPECT_EQ(p::refill_reward_q16({5, 5, 0, 0}), 0u);  // no scale: no reward
  // A batch abandoned half unused at thread exit loses a quarter.
  EXPECT_EQ(p::refill_reward_q16({10'000, 0, 100, 1000, 64, 32}), p::kQ16 * 3 / 4);
  EXPECT_EQ(p::refill_reward_q16({10'000, 0, 100, 1000, 64, 640}), p::kQ16 / 2);  // clamped
}

TEST(RefillBandit, FeasibleArmsRespectTheBatchByteLimit) {
  EXPECT_EQ(p::feasible_arms(16, 256 * 1024), p::kRefillArms);
  EXPECT_EQ(p::feasible_arms(65536, 256 * 1024), 2u);   // 2 and 4 blocks
  EXPECT_EQ(p::feasible_arms(1 << 20, 1024), 1u);       // never zero
}

TEST(RefillBandit, SelectsUnpulledArmsNearestTheCurrentFirst) {
  p::RefillBandit b{};
  b.current = 3;
  EXPECT_EQ(p::ucb1_select(b), 3u);
  p::record_reward(b, 3, 100);
  const auto next = p::ucb1_select(b);
  EXPECT_TRUE(next == 2u || next == 4u);
}

TEST(RefillBandit, ConvergesToTheArmWithTheBestMeanReward) {
  p::RefillBandit b{};
  b.current = 0;
  // Arm 4 pays 0.9, the rest 0.3: the published arm must walk to 4.
  for (int epoch = 0; epoch < 400; ++epoch) {
    for (int e = 0; e < 8; ++e) {
      const auto r = static_cast<std::uint32_t>(b.current == 4 ? p::kQ16 * 9 / 10 : p::kQ16 * 3 / 10);
      p::record_reward(b, b.current, r);
    }
    (void)p::decide_arm(b);
  }
  EXPECT_EQ(b.current, 4u);
}

TEST(RefillBandit, DampingNeedsTwoEpochsAndMovesOneArmAtATime) {
  p::RefillBandit b{};
  for (std::size_t a = 0; a < p::kRefillArms; ++a) {
    for (int i = 0; i < 50; ++i) p::record_reward(b, a, a == 6 ? 60000 : 1000);
  }
  b.current = 2;
  EXPECT_EQ(p::decide_arm(b), 2u);  // first epoch pointing at 6: hold
  EXPECT_EQ(p::decide_arm(b), 3u);  // second: one step only
  EXPECT_EQ(p::decide_arm(b), 3u);
  EXPECT_EQ(p::decide_arm(b), 4u);
}

TEST(RefillBandit, DecayHalvesHistorySoTheBanditKeepsAdapting) {
  p::RefillBandit b{};
  for (std::uint64_t i = 0; i < p::kDecayPulls; ++i) p::record_reward(b, 1, 100);
  EXPECT_EQ(b.arms[1].pulls, p::kDecayPulls);
  p::record_reward(b, 1, 100);
  EXPECT_LE(b.arms[1].pulls, p::kDecayPulls / 2 + 1);
  EXPECT_EQ(b.total, b.arms[1].pulls);
  EXPECT_NEAR(static_cast<double>(p::mean_q16(b.arms[1])), 100.0, 1.0);
}

}  // namespace
