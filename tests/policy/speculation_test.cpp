#include "spool/policy/speculation.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace {

using spool::policy::decide_speculation;
using spool::policy::evaluate_speculation;
using spool::policy::SpeculationObservation;
using spool::policy::SpeculationVerdict;

constexpr auto kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr auto kU64Max = std::numeric_limits<std::uint64_t>::max();

constexpr SpeculationObservation obs(std::uint32_t bn, std::uint64_t bns, std::uint32_t sn,
                                     std::uint64_t sns, std::uint64_t compile) {
  return SpeculationObservation{bn, bns, sn, sns, compile};
}

// The policy is usable at compile time.
static_assert(decide_speculation(obs(50, 100'000, 50, 50'000, 0)) == SpeculationVerdict::Adopt);

TEST(Speculation, KeepsRacingWhenBaselineUnderSampled) {
  EXPECT_EQ(decide_speculation(obs(3, 100'000, 100, 50'000, 0)), SpeculationVerdict::KeepRacing);
}

TEST(Speculation, KeepsRacingWhenSpeculativeUnderSampled) {
  EXPECT_EQ(decide_speculation(obs(100, 100'000, 7, 50'000, 0)), SpeculationVerdict::KeepRacing);
}

TEST(Speculation, DecidesAtExactlyEightDispatchesPerSide) {
  EXPECT_EQ(decide_speculation(obs(8, 100'000, 8, 50'000, 0)), SpeculationVerdict::Adopt);
}

TEST(Speculation, AdoptsWhenSpeculativeClearlyFaster) {
  EXPECT_EQ(decide_speculation(obs(50, 100'000, 50, 50'000, 0)), SpeculationVerdict::Adopt);
}

TEST(Speculation, RejectsWhenSpeculativeSlower) {
  EXPECT_EQ(decide_speculation(obs(50, 50'000, 50, 100'000, 0)), SpeculationVerdict::Reject);
}

TEST(Speculation, RejectsWhenSpeculativeEqual) {
  EXPECT_EQ(decide_speculation(obs(50, 70'000, 50, 70'000, 0)), SpeculationVerdict::Reject);
}

TEST(Speculation, KeepsRacingWhenSpeculativeMarginallyFaster) {
  EXPECT_EQ(decide_speculation(obs(50, 100'000, 50, 95'000, 0)), SpeculationVerdict::KeepRacing);
}

TEST(Speculation, AdoptsAtExactlyFifteenPercentSavings) {
  const auto d = evaluate_speculation(obs(50, 100'000, 50, 85'000, 0));
  EXPECT_EQ(d.savings_bps, 1500u);
  EXPECT_EQ(d.verdict, SpeculationVerdict::Adopt);
  // One nanosecond less saving falls just under the threshold.
  EXPECT_EQ(decide_speculation(obs(50, 100'000, 50, 85'001, 0)), SpeculationVerdict::KeepRacing);
}

TEST(Speculation, AmortisesSideCompileCostIntoDecision) {
  // 1 ms / 50 dispatches = 20 us; effective 70 us vs 100 us -> 30 % savings.
  const auto d = evaluate_speculation(obs(50, 100'000, 50, 50'000, 1'000'000));
  EXPECT_EQ(d.effective_speculative_ns, 70'000u);
  EXPECT_EQ(d.savings_bps, 3000u);
  EXPECT_EQ(d.verdict, SpeculationVerdict::Adopt);
}

TEST(Speculation, RejectsWhenSideCompileCostDominatesEarly) {
  // 1 ms / 8 = 125 us; effective 175 us > 100 us baseline.
  EXPECT_EQ(decide_speculation(obs(50, 100'000, 8, 50'000, 1'000'000)), SpeculationVerdict::Reject);
}

TEST(Speculation, KeepsRacingOnZeroBaselineInsteadOfDividingByZero) {
  EXPECT_EQ(decide_speculation(obs(50, 0, 50, 50'000, 0)), SpeculationVerdict::KeepRacing);
}

TEST(Speculation, ExtremeInputsRejectWithoutOverflow) {
  EXPECT_EQ(decide_speculation(obs(kU32Max, kU64Max, kU32Max, kU64Max, kU64Max)),
            SpeculationVerdict::Reject);
  EXPECT_EQ(decide_speculation(obs(kU32Max, 1, kU32Max, kU64Max, 0)), SpeculationVerdict::Reject);
}

TEST(Speculation, HugeSavingsUseWidenedArithmeticNotSaturation) {
  const auto d = evaluate_speculation(obs(kU32Max, kU64Max, kU32Max, 1, 0));
  EXPECT_EQ(d.verdict, SpeculationVerdict::Adopt);
  EXPECT_EQ(d.savings_bps, 9999u);  // (2^64-2)/(2^64-1) of 10000, floored
}

TEST(Speculation, EffectiveCostExceedsSixtyFourBitsWithoutWrapping) {
  // mean u64 max + compile u64 max / 8: a 64-bit sum would wrap and look cheap.
  const auto d = evaluate_speculation(obs(8, kU64Max, 8, kU64Max, kU64Max));
  EXPECT_EQ(d.verdict, SpeculationVerdict::Reject);
  EXPECT_GT(d.effective_speculative_ns, spool::policy::u128{kU64Max});
}

TEST(Speculation, SourceUsesExactWidenedArithmetic) {
  std::ifstream f(std::string(SPOOL_POLICY_INCLUDE_DIR) + "/speculation.hpp");
  ASSERT_TRUE(f) << "cannot read speculation.hpp";
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string src = ss.str();
  EXPECT_EQ(src.find(std::string("satur") + "ating"), std::string::npos);
  EXPECT_NE(src.find("u128{obs.speculative_mean_ns}"), std::string::npos);
  EXPECT_NE(src.find("u128{obs.baseline_mean_ns}"), std::string::npos);
}

}  // namespace
