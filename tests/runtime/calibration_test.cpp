#include "spool/backend/calibration.hpp"

#include <gtest/gtest.h>

#include "spool/error.hpp"

namespace {

using spool::backend::CalibrationPlan;
using spool::backend::CalibrationSamples;
using spool::backend::profile_from_samples;

CalibrationSamples samples() {
  CalibrationSamples s;
  s.launch_per_item = {30'000, 10'000, 20'000};        // median 20 us
  s.record_one = {50'000, 40'000, 45'000};             // median 45 us
  s.record_many = {45'000 + 255 * 1'000.0};            // 1 us per extra dispatch
  s.persistent_cold = {500'000, 400'000, 450'000};     // median 450 us
  s.persistent_warm_per_item = {900, 1'100, 1'000};    // median 1 us
  return s;
}

TEST(Calibration, DerivesEveryOverheadFromMedians) {
  CalibrationSamples s = samples();
  s.record_many = {45'000 + 255 * 2'000.0};  // 2 us per extra dispatch
  const auto p = profile_from_samples(s);
  EXPECT_DOUBLE_EQ(p.launch_ns, 20'000);
  EXPECT_DOUBLE_EQ(p.replay_ns, 2'000);
  EXPECT_DOUBLE_EQ(p.record_setup_ns, 43'000);
  EXPECT_DOUBLE_EQ(p.queue_item_ns, 1'000);
  EXPECT_DOUBLE_EQ(p.persistent_setup_ns, 449'000);
  EXPECT_TRUE(p.recorded_available);
  EXPECT_TRUE(p.persistent_available);
}

TEST(Calibration, NoisyReplaySlopeNeverGivesAZeroReplayCost) {
  CalibrationSamples s = samples();
  s.record_many = {40'000};  // the N-item replay measured faster than the 1-item one
  const auto p = profile_from_samples(s);
  EXPECT_DOUBLE_EQ(p.replay_ns, 40'000.0 / CalibrationPlan::kRecordItems);
  EXPECT_GT(p.replay_ns, 0);
}

TEST(Calibration, MissingSamplesAreAClearError) {
  CalibrationSamples s = samples();
  s.persistent_cold.clear();
  EXPECT_THROW(profile_from_samples(s), spool::Error);
}

TEST(Calibration, RunAndWaitReturnsTheCompletionsResult) {
  const auto r = spool::backend::run_and_wait([](spool::backend::Completion done) {
    spool::backend::ExecResult x;
    x.items_run = 7;
    x.wall_ns = 123;
    done(std::move(x));
  });
  EXPECT_EQ(r.items_run, 7u);
  EXPECT_DOUBLE_EQ(r.wall_ns, 123);
}

}  // namespace
