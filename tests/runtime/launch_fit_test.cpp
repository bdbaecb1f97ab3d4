// The learned cost line of one launch mode (runtime/src/launch_fit.hpp).
#include "launch_fit.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace {

using spool::LaunchFit;

TEST(LaunchFit, PredictsThePriorBeforeAnyObservation) {
  LaunchFit f;
  f.set_prior(5000, 20);
  EXPECT_NEAR(f.predict(1), 5020, 1e-6);
  EXPECT_NEAR(f.predict(100), 7000, 1e-6);
}

TEST(LaunchFit, LearnsAnExactLineAndForgetsThePrior) {
  LaunchFit f;
  f.set_prior(0, 1);
  for (int rep = 0; rep < 200; ++rep) {
    for (double n : {3.0, 30.0, 300.0}) f.add(n, 400 + 7 * n);
  }
  EXPECT_NEAR(f.predict(1), 407, 407 * 0.02);
  EXPECT_NEAR(f.predict(3000), 21400, 21400 * 0.02);
}

// Batches seen only at large sizes can fit a negative fixed part; a small
// batch must then still cost something (it was predicted free, and so always
// chosen, before).
TEST(LaunchFit, NeverPredictsASmallBatchFreeWhenTheFreeFitHasANegativeIntercept) {
  LaunchFit f;
  f.set_prior(0, 10);
  for (int rep = 0; rep < 200; ++rep) {
    for (double n : {64.0, 256.0, 1024.0}) f.add(n, 20 * n - 500);
  }
  EXPECT_GT(f.predict(1), 10.0);
  EXPECT_GE(f.predict(0), 0.0);
  EXPECT_NEAR(f.predict(1024), 20 * 1024 - 500, (20 * 1024 - 500) * 0.05);
}

// One batch descheduled for milliseconds must not poison the line.
TEST(LaunchFit, OneOutlierMovesThePredictionLittle) {
  LaunchFit f;
  f.set_prior(0, 1000);
  for (int rep = 0; rep < 100; ++rep) {
    for (double n : {1.0, 10.0, 100.0}) f.add(n, 70'000 + 800 * n);
  }
  f.add(1, 4'500'000);  // 60x the usual 1-item batch
  EXPECT_LT(f.predict(1), 2 * 70'800.0);
}

// A real change of level gets through as fast as the line's memory allows.
TEST(LaunchFit, FollowsARealChangeOfLevel) {
  LaunchFit f;
  f.set_prior(0, 1000);
  for (int rep = 0; rep < 100; ++rep) {
    for (double n : {1.0, 10.0, 100.0}) f.add(n, 10'000 + 100 * n);
  }
  // 5x more expensive from now on: within 25 % after 42 batches (the line's
  // memory is about 16 batches: kDecay 0.94).
  for (int rep = 0; rep < 14; ++rep) {
    for (double n : {1.0, 10.0, 100.0}) f.add(n, 50'000 + 500 * n);
  }
  EXPECT_NEAR(f.predict(10), 55'000, 55'000 * 0.25);
  // 20x: within 25 % after 60 batches.
  for (int rep = 0; rep < 20; ++rep) {
    for (double n : {1.0, 10.0, 100.0}) f.add(n, 200'000 + 2'000 * n);
  }
  EXPECT_NEAR(f.predict(10), 220'000, 220'000 * 0.25);
}

TEST(LaunchFit, IgnoresNonFiniteAndNegativeTimes) {
  LaunchFit f;
  f.set_prior(100, 1);
  f.add(10, -1);
  f.add(10, std::numeric_limits<double>::infinity());
  f.add(0, 50);
  EXPECT_EQ(f.observations(), 0u);
  EXPECT_NEAR(f.predict(10), 110, 1e-6);
}

}  // namespace
