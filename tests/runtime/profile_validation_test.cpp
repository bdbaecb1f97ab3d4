// A launch profile stored by an earlier process is checked before it is
// trusted: a CPU device's profile is keyed by the CPUs the process may use,
// and a stored profile that a quick check contradicts is measured again.
// Functional checks on lavapipe (nothing here is timed).
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "spool/autotune/store.hpp"
#include "vk_test_util.hpp"

namespace {

namespace fs = std::filesystem;

struct TempStore {
  fs::path dir;
  TempStore() {
    char tmpl[] = "/tmp/spool_profile_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~TempStore() { fs::remove_all(dir); }
  std::string path() const { return (dir / "autotune.sqlite").string(); }
};

std::shared_ptr<spool::Device> open_with_store(const std::string& db) {
  spool::RuntimeOptions o;
  o.device_options.autotune = "off";
  o.device_options.autotune_db = db;  // calibrate: SPOOL_CALIBRATE=auto (stored, checked)
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

TEST(ProfileValidation, ProfileStoredUnderAnotherPlacementIsNotUsed) {
  spool::test::Env env({{"SPOOL_CALIBRATE", "auto"}});
  TempStore store;
  auto probe = open_with_store(store.path());
  REQUIRE_DEVICE(probe);
  if (probe->info().type != spool::DeviceType::cpu) GTEST_SKIP() << "placement keys apply to CPU devices";
  const std::string unpinned = probe->profile().placement;
  probe.reset();
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  if (CPU_COUNT(&all) < 2) GTEST_SKIP() << "needs two usable CPUs to pin to one";
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;

  // A process pinned to one CPU (here: a thread, whose device threads
  // inherit its mask) measures and stores its own profile.
  spool::LaunchProfile pinned;
  std::thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    auto dev = open_with_store(store.path());
    ASSERT_TRUE(dev);
    pinned = dev->profile();
  });
  t.join();
  EXPECT_EQ(pinned.placement, "cpus " + std::to_string(first) + " of " + unpinned.substr(unpinned.rfind(' ') + 1));
  EXPECT_NE(pinned.placement, unpinned);

  // Unpinned again: that profile is not this placement's. Ours was stored
  // by the first open; it is checked, not taken blindly.
  auto dev = open_with_store(store.path());
  ASSERT_TRUE(dev);
  const auto p = dev->profile();
  EXPECT_EQ(p.placement, unpinned);
  EXPECT_FALSE(p.validation.empty());
  EXPECT_FALSE(p.source == "store" && p.launch_ns == pinned.launch_ns && p.queue_item_ns == pinned.queue_item_ns)
      << "the pinned profile was used unchanged";
  // The store holds one profile per placement.
  auto s = spool::autotune::Store::open(store.path());
  int ours = 0, theirs = 0;
  for (const auto& row : s->list_profiles()) {
    ours += row.device.driver_version.find("[" + unpinned + "]") != std::string::npos;
    theirs += row.device.driver_version.find("[" + pinned.placement + "]") != std::string::npos;
  }
  EXPECT_EQ(ours, 1);
  EXPECT_EQ(theirs, 1);
}

TEST(ProfileValidation, StoredProfileContradictedByTheQuickCheckIsMeasuredAgain) {
  spool::test::Env env({{"SPOOL_CALIBRATE", "auto"}});
  TempStore store;
  auto dev = open_with_store(store.path());
  REQUIRE_DEVICE(dev);
  const auto measured = dev->profile();
  ASSERT_EQ(measured.source, "calibrated");
  dev.reset();
  // Another process (or other conditions) left a profile 200x off.
  {
    auto s = spool::autotune::Store::open(store.path());
    auto rows = s->list_profiles();
    ASSERT_EQ(rows.size(), 1u);
    auto rec = rows[0].profile;
    rec.launch_ns *= 200;
    rec.replay_ns *= 200;
    rec.queue_item_ns *= 200;
    s->save_profile(rows[0].device, rec);
  }
  dev = open_with_store(store.path());
  ASSERT_TRUE(dev);
  const auto p = dev->profile();
  EXPECT_EQ(p.source, "calibrated");
  EXPECT_NE(p.validation.find("disagreed"), std::string::npos) << p.validation;
  EXPECT_LT(p.launch_ns, measured.launch_ns * 50) << "the wrong profile was kept";
  // Re-measured and stored again: the next open confirms it.
  dev.reset();
  dev = open_with_store(store.path());
  const auto again = dev->profile();
  EXPECT_FALSE(again.validation.empty());
}

}  // namespace
