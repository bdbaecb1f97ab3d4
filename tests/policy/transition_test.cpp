#include "spool/policy/transition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace {

using spool::policy::choose_with_transitions;
using spool::policy::LaunchMode;
using spool::policy::TransitionInputs;
using spool::policy::TransitionState;

TransitionInputs inputs(double launches, double recorded, double persistent, bool resident, double P = 100,
                        double Q = 20) {
  TransitionInputs in;
  in.cost_ns = {launches, recorded, persistent};
  in.available = {true, true, true};
  in.resident = resident;
  in.start_ns = P;
  in.park_ns = Q;
  return in;
}

TEST(Transition, PersistentStartsAtOnceWhenItWinsEvenPayingItsStartup) {
  const auto d = choose_with_transitions(inputs(500, 400, 50, false), {});
  EXPECT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_DOUBLE_EQ(d.predicted_ns[2], 150);  // 50 + P
  EXPECT_DOUBLE_EQ(d.predicted_ns[0], 500);  // nothing to park
  EXPECT_DOUBLE_EQ(d.state.buy_regret, 0);
}

TEST(Transition, NotResidentBuysOnceRegretReachesStartup) {
  // Persistent would save 30 per batch if resident; P = 100: rent three
  // times (regret 30, 60, 90), buy on the fourth (120 >= 100).
  TransitionState st;
  for (int i = 0; i < 3; ++i) {
    const auto d = choose_with_transitions(inputs(80, 200, 50, false), st);
    EXPECT_EQ(d.mode, LaunchMode::launches) << i;
    st = d.state;
  }
  EXPECT_DOUBLE_EQ(st.buy_regret, 90);
  const auto d = choose_with_transitions(inputs(80, 200, 50, false), st);
  EXPECT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_DOUBLE_EQ(d.state.buy_regret, 0);
}

TEST(Transition, ResidentStaysWhenCheapest) {
  const auto d = choose_with_transitions(inputs(80, 60, 50, true), TransitionState{0, 40});
  EXPECT_EQ(d.mode, LaunchMode::persistent);
  EXPECT_DOUBLE_EQ(d.state.sell_regret, 0);
  EXPECT_DOUBLE_EQ(d.predicted_ns[1], 80);  // 60 + Q
}

TEST(Transition, ResidentLeavesOnlyOnceExtraCostReachesParkPlusStart) {
  // Staying costs 40 more than recorded per batch; Q + P = 120: stay for
  // two batches (40, 80), leave on the third (120).
  TransitionState st;
  for (int i = 0; i < 2; ++i) {
    const auto d = choose_with_transitions(inputs(300, 60, 100, true), st);
    EXPECT_EQ(d.mode, LaunchMode::persistent) << i;
    st = d.state;
  }
  const auto d = choose_with_transitions(inputs(300, 60, 100, true), st);
  EXPECT_EQ(d.mode, LaunchMode::recorded);
  EXPECT_DOUBLE_EQ(d.state.sell_regret, 0);
}

TEST(Transition, UnavailablePersistentPicksTheBestOtherAndForgets) {
  auto in = inputs(80, 60, 1, false);
  in.available[2] = false;
  const auto d = choose_with_transitions(in, TransitionState{50, 50});
  EXPECT_EQ(d.mode, LaunchMode::recorded);
  EXPECT_LT(d.predicted_ns[2], 0);
  EXPECT_DOUBLE_EQ(d.state.buy_regret, 0);
  EXPECT_DOUBLE_EQ(d.state.sell_regret, 0);
}

TEST(Transition, UnavailableRecordedIsNeverChosen) {
  auto in = inputs(80, 1, 500, false);
  in.available[1] = false;
  EXPECT_EQ(choose_with_transitions(in, {}).mode, LaunchMode::launches);
}

// Over random streams of batches, what the policy pays (including every
// start and park it causes) stays within twice the best fixed strategy plus
// one switch, the rent-or-buy bound; and it never pays more than flapping
// per batch would.
TEST(Transition, TotalCostStaysWithinTwiceTheBestFixedStrategy) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 2000; ++trial) {
    const double P = 50 + double(rng() % 2000), Q = 10 + double(rng() % 200);
    const int n = 5 + int(rng() % 200);
    TransitionState st;
    bool resident = false;
    double policy = 0, always_other = 0, always_pers = P, max_step = 0;
    for (int i = 0; i < n; ++i) {
      const double other = 10 + double(rng() % 1000), pers = 5 + double(rng() % 1000);
      auto in = inputs(other, other * 2, pers, resident, P, Q);
      const auto d = choose_with_transitions(in, st);
      st = d.state;
      policy += d.predicted_ns[static_cast<std::size_t>(d.mode)];
      resident = d.mode == LaunchMode::persistent;
      always_other += other;
      always_pers += pers;
      max_step = std::max(max_step, std::abs(other - pers));
    }
    const double best = std::min(always_other, always_pers);
    ASSERT_LE(policy, 2 * best + P + Q + max_step) << "trial " << trial;
  }
}

}  // namespace
