#include "spool/dispatcher.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "mock_backend.hpp"
#include "spool/device.hpp"
#include "spool/error.hpp"
#include "spool/runtime.hpp"
#include "spool/telemetry.hpp"

namespace {

using spool::LaunchMode;
using spool::test::MockBackend;
using spool::test::MockDevice;

struct Fixture {
  MockDevice* dev = nullptr;
  std::shared_ptr<spool::Device> device;
  spool::Buffer x, y;
  Fixture() {
    std::vector<std::unique_ptr<spool::backend::Backend>> b;
    b.push_back(std::make_unique<MockBackend>(&dev));
    spool::RuntimeOptions o;
    o.device_options.telemetry_path = std::string();
    o.device_options.calibrate = true;  // the mock's scripted profile
    o.device_options.autotune = "off";
    spool::Runtime rt(std::move(b), o);
    device = rt.open_default();
    x = device->buffer(1024);
    y = device->buffer(1024);
  }
  spool::Batch batch(std::size_t n) {
    spool::Batch b(device->kernel("axpy"));
    for (std::size_t i = 0; i < n; ++i) {
      b.add(64, {spool::arg(x), spool::arg(y), spool::arg(2.0f), spool::arg(64u)});
    }
    return b;
  }
};

class CollectSink : public spool::TelemetrySink {
 public:
  void on_verdict(const spool::Verdict& v) override {
    std::lock_guard lk(mu);
    seen.push_back(v);
  }
  std::mutex mu;
  std::vector<spool::Verdict> seen;
};

TEST(Dispatcher, SingleItemUsesLaunches) {
  Fixture f;
  const auto v = f.device->run(f.batch(1));
  EXPECT_EQ(v.mode, LaunchMode::launches);
  EXPECT_EQ(f.dev->calls.back().mode, LaunchMode::launches);
  EXPECT_EQ(v.items_run, 1u);
}

TEST(Dispatcher, ModeFollowsPolicyOverCalibratedProfile) {
  // profile: L=10us, R=20us r=1us, P=200us p=0.2us. A fresh device each time,
  // so only the calibrated profile (nothing learned) decides.
  Fixture a, b, c;
  EXPECT_EQ(a.device->run(a.batch(2)).mode, LaunchMode::launches);       // 20 vs 22 vs 200.4
  EXPECT_EQ(b.device->run(b.batch(8)).mode, LaunchMode::recorded);       // 80 vs 28 vs 201.6
  EXPECT_EQ(c.device->run(c.batch(5000)).mode, LaunchMode::persistent);  // 50ms vs 5ms vs 1.2ms
  ASSERT_EQ(c.dev->calls.size(), 1u);
  EXPECT_EQ(c.dev->calls[0].mode, LaunchMode::persistent);
  EXPECT_EQ(c.dev->calls[0].items, 5000u);
}

TEST(Dispatcher, VerdictCarriesPredictionsOfEveryMode) {
  Fixture f;
  const auto v = f.device->run(f.batch(8));
  EXPECT_DOUBLE_EQ(v.predicted_ns[0], 80'000);
  EXPECT_DOUBLE_EQ(v.predicted_ns[1], 28'000);
  EXPECT_DOUBLE_EQ(v.predicted_ns[2], 201'600);
  EXPECT_DOUBLE_EQ(v.measured_ns, 1'000);
  EXPECT_EQ(v.kernel, "axpy");
  EXPECT_EQ(v.variant, "wg=64");
  EXPECT_EQ(v.device, "mock device");
}

TEST(Dispatcher, ResidentPersistentKernelDropsSetupFromPrediction) {
  Fixture f;
  f.dev->resident = true;
  const auto v = f.device->run(f.batch(8));
  EXPECT_DOUBLE_EQ(v.predicted_ns[2], 1'600);
  EXPECT_EQ(v.mode, LaunchMode::persistent);
}

TEST(Dispatcher, ForcedModeIsHonouredAndMarked) {
  Fixture f;
  spool::SubmitOptions o;
  o.force_mode = LaunchMode::recorded;
  const auto v = f.device->run(f.batch(1), o);
  EXPECT_EQ(v.mode, LaunchMode::recorded);
  EXPECT_TRUE(v.forced);
}

TEST(Dispatcher, ForcingPersistentOnKernelWithoutVariantThrowsWithReason) {
  Fixture f;
  f.dev->persistent_kernel = false;
  spool::SubmitOptions o;
  o.force_mode = LaunchMode::persistent;
  try {
    f.device->run(f.batch(4), o);
    FAIL() << "expected spool::Error";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
    EXPECT_NE(std::string(e.what()).find("no persistent variant"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(f.dev->calls.empty());
}

TEST(Dispatcher, PersistentNeverChosenWhenKernelLacksVariant) {
  Fixture f;
  f.dev->persistent_kernel = false;
  const auto v = f.device->run(f.batch(5000));
  EXPECT_EQ(v.mode, LaunchMode::recorded);
  EXPECT_LT(v.predicted_ns[2], 0);
}

TEST(Dispatcher, EmptyBatchCompletesWithoutExecuting) {
  Fixture f;
  const auto v = f.device->run(f.batch(0));
  EXPECT_EQ(v.items, 0u);
  EXPECT_TRUE(f.dev->calls.empty());
}

TEST(Dispatcher, EveryBatchReachesTelemetrySinks) {
  Fixture f;
  auto sink = std::make_shared<CollectSink>();
  f.device->add_telemetry_sink(sink);
  f.device->run(f.batch(1));
  f.device->run(f.batch(8));
  ASSERT_EQ(sink->seen.size(), 2u);
  EXPECT_LT(sink->seen[0].batch_id, sink->seen[1].batch_id);
  const std::string json = spool::to_json(sink->seen[1]);
  EXPECT_NE(json.find("\"mode\":\"recorded\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"predicted_ns\":{\"launches\":80000.0"), std::string::npos) << json;
}

TEST(Dispatcher, LearnsObservedCostsAndChangesItsMind) {
  Fixture f;
  // Recorded batches of 8 really take 400 us (predicted from the profile:
  // far less), launches take 80 us, persistent ones 900 us. The model fits
  // what it observes (the first batch of a pipeline is a warm-up, not
  // learned from), and its periodic re-measurement of the others finds
  // launches cheaper.
  f.dev->scripted_wall_ns[0] = 80'000;
  f.dev->scripted_wall_ns[1] = 400'000;
  f.dev->scripted_wall_ns[2] = 900'000;
  EXPECT_EQ(f.device->run(f.batch(8)).mode, LaunchMode::recorded);  // warm-up, not folded in
  spool::Verdict v;
  for (int i = 0; i < 10 && (v = f.device->run(f.batch(8))).mode == LaunchMode::recorded; ++i) {
  }
  int launches_after = 0;
  for (int i = 0; i < 300; ++i) {
    if (f.device->run(f.batch(8)).mode == LaunchMode::launches) ++launches_after;
  }
  EXPECT_GT(launches_after, 250) << "the dispatcher kept choosing a slow mode";
  // Predictions now match what each mode really costs.
  const auto last = f.device->run(f.batch(8));
  EXPECT_NEAR(last.predicted_ns[0], 80'000, 8'000);
}

TEST(Dispatcher, PredictionConvergesToTheObservedCost) {
  Fixture f;
  f.dev->scripted_wall_ns[1] = 400'000;
  spool::SubmitOptions o;
  o.force_mode = LaunchMode::recorded;
  for (int i = 0; i < 12; ++i) f.device->run(f.batch(8), o);
  const auto v = f.device->run(f.batch(8), o);
  EXPECT_NEAR(v.predicted_ns[1], 400'000, 40'000);
  EXPECT_FALSE(v.exploration);
  EXPECT_EQ(v.first_use_ns, 0);
}

// The profile was measured with a trivial kernel: a mode never run for a
// heavy kernel must be priced with that kernel's own measured time per item.
TEST(Dispatcher, UntriedModeIsPricedWithTheKernelsOwnMeasuredTime) {
  Fixture f;
  f.dev->resident = true;
  f.dev->scripted_wall_ns[0] = 8 * 60'000.0;    // 8 launches of a 50 us kernel
  f.dev->scripted_device_ns[0] = 8 * 50'000.0;  // device timestamps
  spool::SubmitOptions o;
  o.force_mode = LaunchMode::launches;
  for (int i = 0; i < 6; ++i) f.device->run(f.batch(8), o);
  const auto v = f.device->run(f.batch(8), o);
  // Untried: recorded (R + 8 r from the profile: 28 us) and persistent
  // (8 p: 1.6 us) would look far cheaper than the kernel alone.
  EXPECT_GE(v.predicted_ns[1], 8 * 50'000.0);
  EXPECT_GE(v.predicted_ns[2], 8 * 50'000.0);
  EXPECT_LT(v.predicted_ns[2], 8 * 60'000.0);
}

TEST(Dispatcher, FirstBatchThroughAPipelineReportsItsOneTimeCostApart) {
  Fixture f;
  f.dev->scripted_wall_ns[0] = 5'000'000;  // the first launch compiles its pipeline
  spool::SubmitOptions o;
  o.force_mode = LaunchMode::launches;
  const auto first = f.device->run(f.batch(2), o);
  EXPECT_GT(first.first_use_ns, 4'000'000);
  f.dev->scripted_wall_ns[0] = 50'000;
  const auto second = f.device->run(f.batch(2), o);
  EXPECT_EQ(second.first_use_ns, 0);
  // The one-time cost was not learned as the mode's cost.
  EXPECT_LT(second.predicted_ns[0], 1'000'000);
}

TEST(Dispatcher, ResidentKernelIsKeptUntilStayingCostsMoreThanASwitch) {
  Fixture f;
  f.dev->resident = true;
  // Warm the pipelines and teach the model: persistent 60 us, launches 50 us
  // per batch of 4 (a small, steady disadvantage for staying resident),
  // recorded 900 us.
  f.dev->scripted_wall_ns[0] = 50'000;
  f.dev->scripted_wall_ns[1] = 900'000;
  f.dev->scripted_wall_ns[2] = 60'000;
  spool::SubmitOptions o;
  for (auto m : {LaunchMode::launches, LaunchMode::recorded, LaunchMode::persistent}) {
    o.force_mode = m;
    for (int i = 0; i < 20; ++i) f.device->run(f.batch(4), o);
  }
  // Staying costs ~10 us per batch; leaving costs a park now and a start
  // (P = 200 us in the profile) later: the automatic choice stays resident
  // for many batches before it parks, instead of flapping.
  int persistent_first = 0;
  while (persistent_first < 100 && f.device->run(f.batch(4)).mode == LaunchMode::persistent) ++persistent_first;
  EXPECT_GE(persistent_first, 15);
  EXPECT_LT(persistent_first, 100);
}

TEST(Dispatcher, ConcurrentSubmittersAllComplete) {
  Fixture f;
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (f.device->run(f.batch(3)).items_run == 3) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(f.dev->calls.size(), 200u);
}

TEST(Runtime, SelectorPicksByNameOrIndexAndRejectsUnknown) {
  std::vector<std::unique_ptr<spool::backend::Backend>> b;
  b.push_back(std::make_unique<MockBackend>(nullptr));
  spool::Runtime rt(std::move(b));
  EXPECT_EQ(rt.select("0"), 0u);
  EXPECT_EQ(rt.select("MOCK"), 0u);
  EXPECT_THROW(rt.select("7"), spool::Error);
  try {
    rt.select("radeon");
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no device matches 'radeon'"), std::string::npos);
  }
}

TEST(Runtime, NoBackendsMeansClearError) {
  spool::Runtime rt({});
  try {
    rt.open_default();
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
  }
}

}  // namespace
