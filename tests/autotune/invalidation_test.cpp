// A changed driver, API version, Spool version or kernel source makes entries
// stale: lookups do not return them and stale() reports them.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;

constexpr ShapeBucket kBucket{10, 4};

void record_everything(Store& s, const DeviceKey& d, const KernelKey& k) {
  LaunchProfileRecord p;
  p.launch_ns = 30'000;
  p.samples = 8;
  s.save_profile(d, p);
  s.add_observation(d, k, kBucket, "wg=64", 100);
  s.add_observation(d, k, kBucket, "wg=128", 90);
  s.set_winner(d, k, kBucket, "wg=128");
  s.reject(d, k, kBucket, "wg=32");
}

bool has_reason(const StaleReport& r, const std::string& text) {
  return std::any_of(r.reasons.begin(), r.reasons.end(),
                     [&](const std::string& s) { return s.find(text) != std::string::npos; });
}

std::string reasons(const StaleReport& r) {
  std::string out;
  for (const auto& s : r.reasons) out += s + "\n";
  return out;
}

TEST(Invalidation, NothingStaleWhenKeysUnchanged) {
  auto s = Store::open(":memory:");
  record_everything(*s, lavapipe(), saxpy());
  const StaleReport r = s->stale(lavapipe(), saxpy());
  EXPECT_TRUE(r.empty()) << reasons(r);
  EXPECT_TRUE(r.reasons.empty());
}

TEST(Invalidation, HidesAndReportsEntriesWhenDriverChanged) {
  auto s = Store::open(":memory:");
  record_everything(*s, lavapipe("1.2"), saxpy());
  const DeviceKey now = lavapipe("1.3");
  EXPECT_FALSE(s->load_profile(now).has_value());
  EXPECT_FALSE(s->observation(now, saxpy(), kBucket, "wg=64").has_value());
  EXPECT_FALSE(s->winner(now, saxpy(), kBucket).has_value());
  EXPECT_FALSE(s->is_rejected(now, saxpy(), kBucket, "wg=32"));
  EXPECT_EQ(s->variant_state(now, saxpy(), kBucket, "wg=128"), VariantState::candidate);

  const StaleReport r = s->stale(now, saxpy());
  EXPECT_EQ(r.stale_profiles, 1u);
  EXPECT_EQ(r.stale_observations, 2u);
  EXPECT_EQ(r.stale_winners, 1u);
  EXPECT_EQ(r.stale_rejections, 1u);
  EXPECT_TRUE(has_reason(r, "driver 1.2 != 1.3 for saxpy")) << reasons(r);
  EXPECT_TRUE(has_reason(r, "driver 1.2 != 1.3 for the launch profile of llvmpipe")) << reasons(r);
  // The old entries are still there for the old driver.
  EXPECT_EQ(s->winner(lavapipe("1.2"), saxpy(), kBucket), "wg=128");
}

TEST(Invalidation, HidesAndReportsEntriesWhenSourceHashChanged) {
  auto s = Store::open(":memory:");
  record_everything(*s, lavapipe(), saxpy("sha256:old"));
  const KernelKey now = saxpy("sha256:new");
  EXPECT_FALSE(s->observation(lavapipe(), now, kBucket, "wg=64").has_value());
  EXPECT_FALSE(s->winner(lavapipe(), now, kBucket).has_value());
  EXPECT_FALSE(s->is_rejected(lavapipe(), now, kBucket, "wg=32"));
  // The launch profile does not depend on the kernel.
  EXPECT_TRUE(s->load_profile(lavapipe()).has_value());

  const StaleReport r = s->stale(lavapipe(), now);
  EXPECT_EQ(r.stale_profiles, 0u);
  EXPECT_EQ(r.stale_observations, 2u);
  EXPECT_EQ(r.stale_winners, 1u);
  EXPECT_EQ(r.stale_rejections, 1u);
  EXPECT_EQ(r.reasons.size(), 1u) << reasons(r);
  EXPECT_TRUE(has_reason(r, "source hash sha256:old != sha256:new for saxpy")) << reasons(r);
}

TEST(Invalidation, HidesAndReportsEntriesWhenApiVersionChanged) {
  auto s = Store::open(":memory:");
  record_everything(*s, lavapipe("23.2.1", "1.3.250"), saxpy());
  const DeviceKey now = lavapipe("23.2.1", "1.3.255");
  EXPECT_FALSE(s->winner(now, saxpy(), kBucket).has_value());
  const StaleReport r = s->stale(now, saxpy());
  EXPECT_EQ(r.stale_observations, 2u);
  EXPECT_TRUE(has_reason(r, "api 1.3.250 != 1.3.255 for saxpy")) << reasons(r);
}

TEST(Invalidation, HidesAndReportsEntriesWhenSpoolVersionChanged) {
  TempDir dir;
  const std::string path = dir.file("s.sqlite");
  {
    auto old = Store::open_as_version(path, "0.0.9");
    EXPECT_EQ(old->key_version(), "0.0.9");
    record_everything(*old, lavapipe(), saxpy());
  }
  auto s = Store::open(path);
  EXPECT_EQ(s->key_version(), std::string(spool_version()));
  EXPECT_FALSE(s->load_profile(lavapipe()).has_value());
  EXPECT_FALSE(s->winner(lavapipe(), saxpy(), kBucket).has_value());
  const StaleReport r = s->stale(lavapipe(), saxpy());
  EXPECT_EQ(r.stale_profiles, 1u);
  EXPECT_EQ(r.stale_winners, 1u);
  EXPECT_TRUE(has_reason(r, "spool 0.0.9 != " + std::string(spool_version()))) << reasons(r);
}

TEST(Invalidation, ReportsEveryDifferenceWhenDriverAndSourceChanged) {
  auto s = Store::open(":memory:");
  record_everything(*s, lavapipe("1.2"), saxpy("h1"));
  const StaleReport r = s->stale(lavapipe("1.3"), saxpy("h2"));
  EXPECT_TRUE(has_reason(r, "driver 1.2 != 1.3, source hash h1 != h2 for saxpy")) << reasons(r);
}

TEST(Invalidation, IgnoresOtherDevicesAndKernelsWhenReportingStale) {
  auto s = Store::open(":memory:");
  DeviceKey other = lavapipe("1.2");
  other.uuid = "another-device";
  record_everything(*s, other, saxpy());
  record_everything(*s, lavapipe(), KernelKey{"gemv", "old"});
  const StaleReport r = s->stale(lavapipe(), saxpy());
  EXPECT_TRUE(r.empty()) << reasons(r);
}

TEST(Invalidation, KeepsFreshEntriesUsableWhenStaleOnesExist) {
  auto s = Store::open(":memory:");
  record_everything(*s, lavapipe("1.2"), saxpy());
  record_everything(*s, lavapipe("1.3"), saxpy());
  EXPECT_EQ(s->winner(lavapipe("1.3"), saxpy(), kBucket), "wg=128");
  EXPECT_EQ(s->observation(lavapipe("1.3"), saxpy(), kBucket, "wg=64")->count, 1u);
  EXPECT_EQ(s->stale(lavapipe("1.3"), saxpy()).stale_observations, 2u);
}

}  // namespace
