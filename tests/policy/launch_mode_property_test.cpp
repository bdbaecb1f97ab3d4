// Property tests of choose_launch_mode over random inputs (fixed seed, so a
// failure reproduces). Inputs are drawn from realistic and extreme ranges.
#include "spool/policy/launch_mode.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace {

using spool::policy::choose_launch_mode;
using spool::policy::index_of;
using spool::policy::LaunchMode;
using spool::policy::LaunchModeInputs;
using spool::policy::ModeOverhead;

class RandomInputs {
 public:
  explicit RandomInputs(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t cost() {
    switch (rng_() % 4) {
      case 0: return rng_() % 2'000;          // sub-2 us
      case 1: return rng_() % 200'000;        // up to 200 us
      case 2: return rng_() % 5'000'000;      // up to 5 ms
      default: return rng_();                 // anything, up to UINT64_MAX
    }
  }

  LaunchModeInputs next() {
    LaunchModeInputs in{};
    in.batch_size = static_cast<std::uint32_t>(rng_() % 3 == 0 ? rng_() : rng_() % 100'000);
    in.per_item_kernel_ns = cost();
    in.launches = ModeOverhead{rng_() % 16 != 0, 0, cost()};
    in.recorded = ModeOverhead{rng_() % 4 != 0, cost(), cost()};
    in.persistent = ModeOverhead{rng_() % 4 != 0, cost(), cost()};
    in.persistent_resident = rng_() % 2 == 0;
    return in;
  }

 private:
  std::mt19937_64 rng_;
};

constexpr int kIterations = 200'000;

TEST(LaunchModeProperty, ChosenModeHasMinimumPredictedCost) {
  RandomInputs gen(0x5b001);
  for (int i = 0; i < kIterations; ++i) {
    const auto in = gen.next();
    const auto d = choose_launch_mode(in);
    ASSERT_TRUE(d.available[index_of(d.mode)]);
    if (in.batch_size <= 1 || !in.launches.measured || in.launches.per_item_ns == 0) {
      ASSERT_EQ(d.mode, LaunchMode::launches) << "iteration " << i;
      continue;
    }
    for (std::size_t m = 0; m < spool::policy::kLaunchModeCount; ++m) {
      if (!d.available[m]) continue;
      ASSERT_LE(d.predicted_ns[index_of(d.mode)], d.predicted_ns[m]) << "iteration " << i;
      // Ties go to the simpler mode: nothing simpler than the choice is as cheap.
      if (m < index_of(d.mode)) {
        ASSERT_LT(d.predicted_ns[index_of(d.mode)], d.predicted_ns[m]);
      }
    }
    ASSERT_EQ(d.savings_ns, d.predicted_ns[0] - d.predicted_ns[index_of(d.mode)]);
  }
}

TEST(LaunchModeProperty, GrowingBatchNeverReturnsFromPersistentToLaunches) {
  RandomInputs gen(0x5b002);
  for (int i = 0; i < kIterations / 10; ++i) {
    auto in = gen.next();
    in.launches.measured = true;
    if (in.launches.per_item_ns == 0) in.launches.per_item_ns = 1;
    bool seen_persistent = false;
    std::uint64_t n = 2;
    while (n <= 0xffffffffULL) {
      in.batch_size = static_cast<std::uint32_t>(n);
      const auto mode = choose_launch_mode(in).mode;
      if (mode == LaunchMode::persistent) seen_persistent = true;
      ASSERT_FALSE(seen_persistent && mode == LaunchMode::launches)
          << "iteration " << i << " batch " << n;
      n = n * 3 / 2 + 1;
    }
  }
}

TEST(LaunchModeProperty, KernelTimeNeverChangesTheChoice) {
  RandomInputs gen(0x5b003);
  for (int i = 0; i < kIterations; ++i) {
    auto in = gen.next();
    const auto a = choose_launch_mode(in);
    in.per_item_kernel_ns = gen.cost();
    const auto b = choose_launch_mode(in);
    ASSERT_EQ(a.mode, b.mode) << "iteration " << i;
    ASSERT_EQ(a.savings_ns, b.savings_ns) << "iteration " << i;
  }
}

TEST(LaunchModeProperty, MakingAModeUnavailableNeverMakesTheChoiceCheaper) {
  RandomInputs gen(0x5b004);
  for (int i = 0; i < kIterations; ++i) {
    auto in = gen.next();
    const auto full = choose_launch_mode(in);
    in.recorded.measured = false;
    const auto fewer = choose_launch_mode(in);
    ASSERT_GE(fewer.predicted_ns[index_of(fewer.mode)], full.predicted_ns[index_of(full.mode)])
        << "iteration " << i;
  }
}

}  // namespace
