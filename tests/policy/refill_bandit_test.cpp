// The refill-count learner's decisions, deterministically: scripted streams
// of observation windows in, published refill counts out.
#include "spool/policy/refill_bandit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>

namespace {

namespace p = spool::policy;

static_assert(p::isqrt(0) == 0 && p::isqrt(1) == 1 && p::isqrt(15) == 3 && p::isqrt(16) == 4);
static_assert(p::ln_q16(1) == 0);
static_assert(p::arm_for_count(1) == 0 && p::arm_for_count(16) == 3 &&
              p::arm_for_count(1000) == p::kRefillArms - 1);

constexpr std::size_t kArm32 = 4;
constexpr std::size_t kArm128 = 6;

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
  const auto q = [](std::uint64_t v) { return v * p::kQ16; };
  EXPECT_GT(p::ucb1_bonus_q16(q(100), q(1)), p::ucb1_bonus_q16(q(100), q(10)));
  EXPECT_GT(p::ucb1_bonus_q16(q(1000), q(10)), p::ucb1_bonus_q16(q(100), q(10)));
  // sqrt(2 ln 100 / 10) = 0.9597; fractional pulls count too.
  EXPECT_NEAR(static_cast<double>(p::ucb1_bonus_q16(q(100), q(10))) / 65536.0, 0.9597, 0.001);
  EXPECT_NEAR(static_cast<double>(p::ucb1_bonus_q16(q(100), q(10) / 4)) / 65536.0, 1.9194, 0.002);
  EXPECT_EQ(p::ucb1_bonus_q16(q(5), 0), ~std::uint64_t{0});
}

TEST(RefillBandit, RewardIsTheRefillTimePerBlockHandedOutLessAMemoryTieBreak) {
  // 64-byte blocks, 256 KiB batches at most, a 1 GHz counter (1000 per µs).
  p::RefillWindow w{0, 1'000'000, 32, 10, 0, 64, 256 * 1024, 1000};
  const std::uint32_t mem32 = static_cast<std::uint32_t>(32 * 64 * p::kQ16 / (256 * 1024) / 32);
  EXPECT_EQ(p::window_reward_q16(w), p::kQ16 - mem32);
  w.slow_cycles = 320 * 8;  // 10 refills of 32: 320 blocks at 8 ns each = a quarter of 32 ns
  EXPECT_EQ(p::window_reward_q16(w), p::kQ16 * 3 / 4 - mem32);
  w.unused = 160;  // half of them flushed unused at exit: 16 ns per used block
  EXPECT_EQ(p::window_reward_q16(w), p::kQ16 / 2 - mem32);
  w.slow_cycles = 1'000'000;  // far beyond 32 ns per block: nothing
  EXPECT_EQ(p::window_reward_q16(w), 0u);
  w.refills = 0;
  EXPECT_EQ(p::window_reward_q16(w), 0u);
  // The same per-block cost earns the same whatever else fills the window.
  const p::RefillWindow busy{2560, 10'000, 32, 10, 0, 64, 256 * 1024, 1000};
  const p::RefillWindow waiting{2560, 10'000'000, 32, 10, 0, 64, 256 * 1024, 1000};
  EXPECT_EQ(p::window_reward_q16(busy), p::window_reward_q16(waiting));
  EXPECT_EQ(p::window_busy_q16(busy), p::kQ16 * 2560 / 10'000);
  EXPECT_EQ(p::window_busy_q16(waiting), p::kQ16 * 2560 / 10'000'000);
  // A full batch costs at most 1/32: only a tie-break.
  const p::RefillWindow full{0, 1000, 4096, 1, 0, 64, 256 * 1024, 1000};
  EXPECT_EQ(p::window_reward_q16(full), p::kQ16 - p::kQ16 / 32);
}

TEST(RefillBandit, FeasibleArmsRespectTheBatchByteLimit) {
  EXPECT_EQ(p::feasible_arms(16, 256 * 1024), p::kRefillArms);
  EXPECT_EQ(p::feasible_arms(65536, 256 * 1024), 2u);  // 2 and 4 blocks
  EXPECT_EQ(p::feasible_arms(1 << 20, 1024), 1u);      // never zero
}

// A scripted environment: the reward each arm earns. Runs `windows`
// observations, each of the arm the learner publishes, and returns the state.
// A fake clock advances 1 ms per window (windows last about a millisecond).
// Rewards are scripted per arm; the busy share is 20 % unless a test says
// otherwise (above min_busy: the learner learns).
struct Script {
  p::RefillLearnerConfig cfg{};
  p::RefillClassState s{};
  std::uint64_t now_ms = 1000;
  std::uint64_t changes = 0;
  std::uint64_t stand_downs = 0;
  std::uint32_t busy_q16 = p::kQ16 / 5;

  explicit Script(std::size_t default_arm = kArm32) {
    p::init_class(s, p::kRefillArms, default_arm, cfg);
  }
  p::RefillDecision step(std::uint32_t reward) {
    ++now_ms;
    const p::RefillDecision d = p::observe(s, s.current, reward, busy_q16, now_ms, cfg);
    changes += d.changed ? 1 : 0;
    stand_downs += d.stood_down ? 1 : 0;
    return d;
  }
  // Steps until an epoch ends; returns that step's decision.
  p::RefillDecision to_epoch_end(const std::function<std::uint32_t(std::size_t)>& reward) {
    p::RefillDecision d;
    do {
      d = step(reward(s.current));
    } while (!d.epoch_end);
    return d;
  }
  void run(std::uint64_t windows, const std::function<std::uint32_t(std::size_t)>& reward) {
    for (std::uint64_t i = 0; i < windows; ++i) {
      if (p::resume_due(s, now_ms)) p::resume(s);  // what the learner thread does
      step(reward(s.current));
    }
  }
};

// Reward of a producer thread: ~200 ns per refill, spread over the batch.
std::uint32_t producer_reward(std::size_t arm) {
  const double count = p::kRefillArmCounts[arm];
  const double per_block_ns = 200.0 / count;
  const double r = 1.0 - per_block_ns / 32.0;
  return static_cast<std::uint32_t>((r < 0 ? 0 : r) * 65536.0);
}

TEST(RefillLearner, MovesToLargerCountsWhenSmallBatchesKeepTheThreadRefilling) {
  Script sc;
  sc.run(2000, producer_reward);
  EXPECT_GE(p::best_arm(sc.s), kArm128);
  EXPECT_EQ(sc.stand_downs, 0u);
  EXPECT_GT(sc.s.judged_ahead, 0u);
  // Most of the learner's (non-control) epochs now publish 128 or 256.
  std::uint64_t big = 0;
  std::uint64_t learn = 0;
  p::RefillDecision d;
  for (int i = 0; i < 800; ++i) {
    d = sc.step(producer_reward(sc.s.current));
    if (d.epoch_end && !sc.s.control) {
      ++learn;
      big += sc.s.current >= kArm128 ? 1 : 0;
    }
  }
  EXPECT_GE(big * 10, learn * 7) << big << " of " << learn;
}

TEST(RefillLearner, ExploresOnlyOneStepAwayFromTheBestArm) {
  Script sc;
  for (int i = 0; i < 3000; ++i) {
    const std::size_t best = p::best_arm(sc.s);
    const p::RefillDecision d = sc.step(producer_reward(sc.s.current));
    if (d.epoch_end && !sc.s.control) {
      const std::size_t dist = d.arm > best ? d.arm - best : best - d.arm;
      ASSERT_LE(dist, 1u) << "window " << i;
    }
  }
}

TEST(RefillLearner, TriesTheLargerNeighbourFirst) {
  Script sc;
  EXPECT_EQ(sc.to_epoch_end(producer_reward).arm, kArm32 + 1);  // 64 before 16
  EXPECT_EQ(sc.to_epoch_end(producer_reward).arm, kArm32 + 2);  // 64 was better: its larger neighbour next
}

TEST(RefillLearner, JudgesEachControlAgainstTheLearnerEpochBeforeItAcrossPhaseChanges) {
  Script sc;
  // Rewards alternate between a slow phase and a fast phase every 24
  // windows (3 epochs); within each phase 128 beats the default by 0.1.
  // Unpaired sums would compare control epochs of one phase with learner
  // epochs of another; pairs keep it ahead.
  std::uint64_t w = 0;
  for (int i = 0; i < 20000; ++i, ++w) {
    const bool slow = (w / 24) % 2 == 0;
    const double base = slow ? 0.4 : 0.8;
    const std::size_t a = sc.s.current;
    const double bonus = a >= kArm128 ? 0.1 : (a > kArm32 ? 0.05 : 0.0);
    sc.step(static_cast<std::uint32_t>((base + bonus) * 65536.0));
  }
  EXPECT_EQ(sc.stand_downs, 0u);
  EXPECT_GE(sc.s.judged_ahead, 10u);
}

TEST(RefillLearner, OneEpochInEightIsAControlThatPublishesTheDefault) {
  Script sc;
  std::uint64_t epochs = 0;
  for (int i = 0; i < 4000; ++i) {
    const p::RefillDecision d = sc.step(producer_reward(sc.s.current));
    if (!d.epoch_end) continue;
    ++epochs;
    if (sc.s.epochs % sc.cfg.control_every == 0) {
      EXPECT_TRUE(sc.s.control);
      EXPECT_EQ(d.arm, kArm32);
    } else {
      EXPECT_FALSE(sc.s.control);
    }
  }
  EXPECT_EQ(epochs, 4000u / sc.cfg.epoch_events);
}

TEST(RefillLearner, OnlyWatchesTheDefaultWhereRefillingTakesAlmostNoTime) {
  Script sc;
  // 2 % of the time in the refill engine: below min_busy (5 %), nothing to
  // win, however the cost per block compares.
  sc.busy_q16 = p::kQ16 / 50;
  sc.run(sc.cfg.epoch_events * 20, producer_reward);
  EXPECT_TRUE(sc.s.watching);
  EXPECT_FALSE(sc.s.stood_down);  // it keeps observing
  EXPECT_EQ(sc.s.watch_starts, 1u);
  EXPECT_EQ(sc.stand_downs, 0u);
  EXPECT_EQ(sc.s.current, kArm32);
  EXPECT_EQ(sc.changes, 0u);  // it never published anything but the default
  // The workload changes: refilling now takes a third of the time. The next
  // epoch ends the watch and the learner tries a larger count.
  sc.busy_q16 = p::kQ16 / 3;
  const p::RefillDecision d = sc.to_epoch_end(producer_reward);
  EXPECT_FALSE(sc.s.watching);
  EXPECT_EQ(d.arm, kArm32 + 1);
}

TEST(RefillLearner, ResumesLearningFromWhatItKnewBeforeAQuietSpell) {
  Script sc;
  sc.run(2000, producer_reward);  // a busy phase: large batches pay
  const std::size_t learned = p::best_arm(sc.s);
  ASSERT_GE(learned, kArm128);
  // A long quiet phase: it watches the default and learns nothing from it.
  sc.busy_q16 = p::kQ16 / 50;
  sc.run(sc.cfg.epoch_events * 8 + sc.cfg.watch_events * 400, producer_reward);
  ASSERT_TRUE(sc.s.watching);
  EXPECT_EQ(p::best_arm(sc.s), learned);
  // Busy again: the first learner epoch after the watch ends publishes what
  // it had learned (or a neighbour of it), not the default's neighbour.
  sc.busy_q16 = p::kQ16 / 3;
  p::RefillDecision d = sc.to_epoch_end(producer_reward);
  ASSERT_FALSE(sc.s.watching);
  if (sc.s.control) d = sc.to_epoch_end(producer_reward);  // a control's turn: the next epoch
  EXPECT_GE(d.arm + 1, learned);
}

TEST(RefillLearner, BusyShareIsTheThreadsAcrossEveryClassItRefilled) {
  // One class: 2 % of the window. The thread refilled sixteen classes as
  // often, so it spent about 32 % of the window refilling.
  p::RefillWindow w{20'000, 1'000'000, 32, 10, 0, 64, 256 * 1024, 1000};
  EXPECT_EQ(p::window_busy_q16(w), p::kQ16 * 2 / 100);
  w.thread_refills = 160;
  EXPECT_EQ(p::window_busy_q16(w), p::kQ16 * 32 / 100);
  w.thread_refills = 5;  // fewer than its own (cannot happen): its own share
  EXPECT_EQ(p::window_busy_q16(w), p::kQ16 * 2 / 100);
  w.thread_refills = 60'000;  // never more than the whole window
  EXPECT_EQ(p::window_busy_q16(w), p::kQ16);
}

TEST(RefillBandit, RewardCountsTheBlocksActuallyHandedOut) {
  // 10 refills under a count of 32 that handed out 160 blocks (a thread
  // ramping up): the cost per block is twice what refills * count says.
  p::RefillWindow w{3'200, 1'000'000, 32, 10, 0, 64, 256 * 1024, 1000};
  const std::uint32_t nominal = p::window_reward_q16(w);
  w.blocks = 160;
  const std::uint32_t actual = p::window_reward_q16(w);
  EXPECT_LT(actual, nominal);
  w.blocks = 320;
  EXPECT_EQ(p::window_reward_q16(w), nominal);
}

TEST(RefillLearner, StandsDownWhenNoCountBeatsTheDefault) {
  Script sc;
  // 10 % busy whatever the count: learning cannot pay for its exploration.
  sc.run(static_cast<std::uint64_t>(sc.cfg.epoch_events) * sc.cfg.judge_epochs,
         [](std::size_t) { return static_cast<std::uint32_t>(p::kQ16 * 9 / 10); });
  EXPECT_EQ(sc.stand_downs, 1u);
  EXPECT_TRUE(sc.s.stood_down);
  EXPECT_EQ(sc.s.current, kArm32);
  // While stood down nothing it observes changes what it publishes.
  const std::uint64_t changes = sc.changes;
  for (int i = 0; i < 200; ++i) {
    const p::RefillDecision d = sc.step(producer_reward(sc.s.current));
    EXPECT_FALSE(d.epoch_end);
  }
  EXPECT_EQ(sc.changes, changes);
  EXPECT_EQ(sc.s.current, kArm32);
}

TEST(RefillLearner, StandsDownWhenTheDefaultIsAlreadyTheBestCount) {
  Script sc;
  // The default (32) is best, every other count is worse: nothing to gain.
  sc.run(static_cast<std::uint64_t>(sc.cfg.epoch_events) * sc.cfg.judge_epochs * 2,
         [](std::size_t arm) {
           const std::uint32_t d = static_cast<std::uint32_t>(arm > kArm32 ? arm - kArm32 : kArm32 - arm);
           return static_cast<std::uint32_t>(p::kQ16 * 9 / 10 - d * (p::kQ16 / 50));
         });
  EXPECT_GE(sc.stand_downs, 1u);
  EXPECT_EQ(sc.s.current, kArm32);
}

TEST(RefillLearner, ResumesAfterItsBackoffAndWaitsTwiceAsLongAfterEachFailure) {
  Script sc;
  const auto flat = [](std::size_t) { return static_cast<std::uint32_t>(p::kQ16 / 2); };
  const std::uint64_t e = sc.cfg.epoch_events;
  sc.run(e * sc.cfg.judge_epochs, flat);
  ASSERT_EQ(sc.stand_downs, 1u);
  const std::uint64_t first_down = sc.now_ms;
  EXPECT_EQ(sc.s.resume_ms, first_down + sc.cfg.backoff_min_ms);
  EXPECT_FALSE(p::resume_due(sc.s, sc.s.resume_ms - 1));
  EXPECT_TRUE(p::resume_due(sc.s, sc.s.resume_ms));
  // Backoff (1 ms per window on the fake clock), then another judging period
  // of learning, then down again for twice as long.
  while (sc.stand_downs < 2 && sc.now_ms < first_down + 100'000) sc.run(1, flat);
  ASSERT_EQ(sc.stand_downs, 2u);
  EXPECT_GE(sc.now_ms, first_down + sc.cfg.backoff_min_ms + e * sc.cfg.judge_epochs - 1);
  EXPECT_EQ(sc.s.resume_ms - sc.now_ms, 2 * sc.cfg.backoff_min_ms);
}

TEST(RefillLearner, BackoffIsCappedAndResetWhenAJudgementFindsTheLearnerAhead) {
  Script sc;
  const auto flat = [](std::size_t) { return static_cast<std::uint32_t>(p::kQ16 / 2); };
  while (sc.stand_downs < 12 && sc.now_ms < 10'000'000) sc.run(1, flat);
  EXPECT_EQ(sc.s.backoff_ms, sc.cfg.backoff_max_ms);
  // Now larger counts pay: once resumed, it learns, is judged ahead, and the
  // backoff is back to its minimum.
  sc.now_ms = sc.s.resume_ms;
  while (sc.s.judged_ahead == 0 && sc.now_ms < sc.s.resume_ms + 100'000) sc.run(1, producer_reward);
  EXPECT_GE(sc.s.judged_ahead, 1u);
  EXPECT_EQ(sc.s.backoff_ms, sc.cfg.backoff_min_ms);
}

TEST(RefillLearner, StaysAheadAndKeepsLearningWhileItsCountBeatsTheControl) {
  Script sc;
  sc.run(20000, producer_reward);
  EXPECT_EQ(sc.stand_downs, 0u);
  EXPECT_FALSE(sc.s.stood_down);
  EXPECT_GE(sc.s.judged_ahead, 5u);
}

TEST(RefillLearner, FollowsAWorkloadWhosePatternChanges) {
  Script sc;
  sc.run(3000, producer_reward);  // phase 1: large batches pay
  ASSERT_GE(p::best_arm(sc.s), kArm128);
  // Phase 2: every refill beyond 8 blocks is wasted work (threads that live
  // briefly and abandon their batches): small counts pay.
  const auto churn = [](std::size_t arm) {
    const double count = p::kRefillArmCounts[arm];
    const double busy = count <= 8 ? 0.05 : 0.05 + 0.002 * (count - 8);
    return static_cast<std::uint32_t>((1.0 - busy) * 65536.0);
  };
  sc.run(3000, churn);
  EXPECT_LE(p::best_arm(sc.s), 3u);  // 16 or less
}

TEST(RefillLearner, LateWindowsOfAnotherArmOnlyUpdateThatArmsStatistics) {
  Script sc;
  const std::size_t cur = sc.s.current;
  const std::uint64_t fill = sc.s.epoch_fill;
  const p::RefillDecision d = p::observe(sc.s, 1, 1000, sc.busy_q16, sc.now_ms, sc.cfg);
  EXPECT_FALSE(d.epoch_end);
  EXPECT_EQ(sc.s.current, cur);
  EXPECT_EQ(sc.s.epoch_fill, fill);
  EXPECT_EQ(sc.s.arms[1].pulls_q16, p::kQ16);
  EXPECT_EQ(sc.s.arms[1].reward_q16, 1000u);
  // Arms outside the feasible prefix are ignored altogether.
  p::RefillClassState small{};
  p::init_class(small, 2, 1, sc.cfg);
  const p::RefillDecision ignored = p::observe(small, 5, 1000, sc.busy_q16, sc.now_ms, sc.cfg);
  EXPECT_FALSE(ignored.changed);
  EXPECT_EQ(small.arms[5].pulls_q16, 0u);
}

TEST(RefillLearner, DiscountingForgetsOldObservations) {
  Script sc;
  const auto high = [](std::size_t) { return static_cast<std::uint32_t>(p::kQ16 * 9 / 10); };
  sc.run(sc.cfg.epoch_events, high);
  EXPECT_EQ(sc.s.arms[kArm32].pulls_q16, (8 * p::kQ16 * sc.cfg.discount_q16) >> 16);
  EXPECT_NEAR(static_cast<double>(p::mean_q16(sc.s.arms[kArm32])), p::kQ16 * 0.9, 2.0);
  // 200 windows later at half the reward (every arm alike), the first
  // epoch's observations weigh almost nothing.
  sc.run(200, [](std::size_t) { return static_cast<std::uint32_t>(p::kQ16 / 2); });
  EXPECT_EQ(sc.stand_downs, 0u);
  EXPECT_LT(p::mean_q16(sc.s.arms[kArm32]), p::kQ16 * 52 / 100);
}

}  // namespace
