// Autotune racing on real dispatch (lavapipe): a slow baseline variant loses
// to a faster candidate (Adopt), the winner is used without racing by a fresh
// process, and a clearly worse candidate is Rejected.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "spool/spool.hpp"
#include "store_key.hpp"

namespace {

using spool::test::key_of;

constexpr std::uint32_t kItems = 64, kGrid = 2048;

std::string store_path(const char* name) {
  const std::string p = testing::TempDir() + "/spool_race_" + name + "_" + std::to_string(getpid()) + ".sqlite";
  std::remove(p.c_str());
  return p;
}

std::shared_ptr<spool::Device> open(const std::string& db, const std::string& mode, const std::string& wg) {
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = mode;
  o.device_options.autotune_db = db;
  o.device_options.autotune_wg = wg;
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

struct Workload {
  spool::Buffer x, y;
  spool::Kernel k;
  explicit Workload(spool::Device& d)
      : x(d.buffer(kItems * kGrid * 4)), y(d.buffer(kItems * kGrid * 4)), k(d.kernel("saxpy")) {}
  spool::Verdict run(spool::Device& d) {
    spool::Batch b(k);
    for (std::uint32_t i = 0; i < kItems; ++i) {
      b.add(kGrid, {spool::arg(x, i * kGrid * 4), spool::arg(y, i * kGrid * 4), spool::arg(1.0f), spool::arg(kGrid)});
    }
    spool::SubmitOptions o;
    o.force_mode = spool::LaunchMode::recorded;  // one mode: the race compares variants only
    return d.run(std::move(b), o);
  }
};

TEST(AutotuneRace, SlowBaselineLosesToFasterCandidateAndWinnerPersists) {
  const std::string db = store_path("adopt");
  auto dev = open(db, "race", "64");
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  Workload w(*dev);
  // Seed the store: the recorded winner is a deliberately slow variant
  // (one invocation per workgroup), so it is the baseline of the race.
  const spool::autotune::KernelKey kk{"saxpy", w.k.source_hash()};
  const auto bucket = spool::autotune::bucket_for(kItems, kGrid);
  {
    auto store = spool::autotune::Store::open(db);
    store->set_winner(key_of(*dev), kk, bucket, "wg=1");
  }
  dev.reset();
  dev = open(db, "race", "64");
  Workload w2(*dev);

  std::string verdict;
  int baseline_runs = 0, spec_runs = 0;
  for (int i = 0; i < 200 && verdict != "adopt" && verdict != "reject"; ++i) {
    const auto v = w2.run(*dev);
    ASSERT_TRUE(v.ok()) << v.failure;
    ASSERT_FALSE(v.race_role.empty()) << "batch " << i << " was not racing";
    (v.race_role == "baseline" ? baseline_runs : spec_runs)++;
    EXPECT_EQ(v.variant, v.race_role == "baseline" ? "wg=1" : "wg=64");
    EXPECT_EQ(v.race_baseline, "wg=1");
    EXPECT_EQ(v.race_speculative, "wg=64");
    verdict = v.race_verdict;
    if (verdict == "adopt") {
      EXPECT_GE(v.race_baseline_count, 8u);
      EXPECT_GE(v.race_speculative_count, 8u);
      EXPECT_LT(v.race_speculative_mean_ns, v.race_baseline_mean_ns);
      EXPECT_NE(spool::to_json(v).find("\"race_verdict\":\"adopt\""), std::string::npos);
    }
  }
  {
    auto store = spool::autotune::Store::open(db);
    const auto b = store->observation(key_of(*dev), kk, bucket, "wg=1");
    const auto s = store->observation(key_of(*dev), kk, bucket, "wg=64");
    EXPECT_EQ(verdict, "adopt") << "wg=1: " << (b ? b->count : 0) << " x " << (b ? b->mean_ns : 0)
                                << " ns/item, wg=64: " << (s ? s->count : 0) << " x "
                                << (s ? s->mean_ns : 0) << " ns/item";
  }
  EXPECT_GE(baseline_runs, 8);
  EXPECT_GE(spec_runs, 8);
  {
    auto store = spool::autotune::Store::open(db);
    EXPECT_EQ(store->winner(key_of(*dev), kk, bucket).value_or(""), "wg=64");
    EXPECT_TRUE(store->is_rejected(key_of(*dev), kk, bucket, "wg=1"));
    const auto obs = store->observation(key_of(*dev), kk, bucket, "wg=1");
    ASSERT_TRUE(obs.has_value());
    EXPECT_GE(obs->count, 8u);
  }
  // Racing is over: the winner runs, nothing races.
  const auto after = w2.run(*dev);
  EXPECT_TRUE(after.race_role.empty());
  EXPECT_EQ(after.variant, "wg=64");
  dev.reset();

  // A fresh process uses the stored winner without racing.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("SPOOL_TEST_RACE_DB", db.c_str(), 1);
    execl("/proc/self/exe", "autotune_child", "--gtest_filter=AutotuneRace.DISABLED_ChildUsesStoredWinner",
          "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child process did not use the stored winner";
  std::remove(db.c_str());
}

// Run only as the child of the test above (a fresh process).
TEST(AutotuneRace, DISABLED_ChildUsesStoredWinner) {
  const char* db = std::getenv("SPOOL_TEST_RACE_DB");
  ASSERT_NE(db, nullptr);
  auto dev = open(db, "race", "64");
  ASSERT_TRUE(dev);
  Workload w(*dev);
  for (int i = 0; i < 4; ++i) {
    const auto v = w.run(*dev);
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v.race_role.empty()) << "raced again in a fresh process";
    EXPECT_EQ(v.variant, "wg=64");
  }
}

TEST(AutotuneRace, ClearlyWorseCandidateIsRejected) {
  const std::string db = store_path("reject");
  auto dev = open(db, "race", "1");  // baseline: the default wg=64; candidate: wg=1
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  Workload w(*dev);
  std::string verdict;
  for (int i = 0; i < 200 && verdict != "adopt" && verdict != "reject"; ++i) {
    const auto v = w.run(*dev);
    ASSERT_TRUE(v.ok()) << v.failure;
    verdict = v.race_verdict;
  }
  EXPECT_EQ(verdict, "reject");
  auto store = spool::autotune::Store::open(db);
  const spool::autotune::KernelKey kk{"saxpy", w.k.source_hash()};
  const auto bucket = spool::autotune::bucket_for(kItems, kGrid);
  EXPECT_TRUE(store->is_rejected(key_of(*dev), kk, bucket, "wg=1"));
  EXPECT_EQ(store->winner(key_of(*dev), kk, bucket).value_or(""), "wg=64");
  std::remove(db.c_str());
}

TEST(AutotuneRace, FrozenModeUsesStoredWinnerAndNeverRaces) {
  const std::string db = store_path("frozen");
  {
    // A pre-tuned store, written before the frozen process starts.
    auto dev = open(":memory:", "off", "1");
    if (!dev) GTEST_SKIP() << "no Vulkan device";
    auto store = spool::autotune::Store::open(db);
    store->set_winner(key_of(*dev), {"saxpy", dev->kernel("saxpy").source_hash()},
                      spool::autotune::bucket_for(kItems, kGrid), "wg=32");
  }
  auto dev = open(db, "frozen", "1");
  ASSERT_TRUE(dev);
  Workload w(*dev);
  for (int i = 0; i < 3; ++i) {
    const auto v = w.run(*dev);
    EXPECT_TRUE(v.race_role.empty());
    EXPECT_EQ(v.variant, "wg=32");
  }
  std::remove(db.c_str());
}

TEST(AutotuneRace, BadCandidateListIsAClearError) {
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "race";
  o.device_options.autotune_db = ":memory:";
  o.device_options.autotune_wg = "64,banana";
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) GTEST_SKIP() << "no Vulkan device";
  try {
    rt.open_default();
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_NE(std::string(e.what()).find("SPOOL_AUTOTUNE_WG"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

std::vector<std::string> files_with(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(needle) != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

TEST(PipelineCache, IsPersistedNextToTheStoreAndForeignDataIsKeptAside) {
  const std::string dir = testing::TempDir() + "/spool_pcache_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/autotune.sqlite";
  spool::autotune::Store::open(db);  // frozen mode opens stores read-only: it must exist
  {
    auto dev = open(db, "frozen", "64");
    if (!dev) GTEST_SKIP() << "no Vulkan device";
    Workload w(*dev);
    ASSERT_TRUE(w.run(*dev).ok());
  }
  auto caches = files_with(dir, "vulkan-pipelines-");
  ASSERT_EQ(caches.size(), 1u) << "no pipeline cache written next to the store";
  // At least the header (lavapipe stores nothing past it: Mesa keeps compiled
  // shaders in its own disk cache; GPU drivers store the pipelines).
  EXPECT_GE(std::filesystem::file_size(caches[0]), 32u);

  // A cache from "another driver": the next run keeps it aside, untouched.
  const std::string garbage = "this is not a pipeline cache of this device, but keep it anyway";
  { std::ofstream(caches[0], std::ios::binary | std::ios::trunc) << garbage; }
  {
    auto dev = open(db, "frozen", "64");
    ASSERT_TRUE(dev);
    Workload w(*dev);
    EXPECT_TRUE(w.run(*dev).ok());
  }
  std::ifstream aside(caches[0] + ".rejected", std::ios::binary);
  ASSERT_TRUE(aside) << "the rejected cache was not kept";
  const std::string kept((std::istreambuf_iterator<char>(aside)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, garbage);
  EXPECT_GE(std::filesystem::file_size(caches[0]), 32u) << "a fresh cache was not written";
  // The fresh cache matches this device: a third run accepts it (nothing new
  // is moved aside, so the kept file still holds the garbage).
  { auto dev = open(db, "frozen", "64"); }
  std::ifstream again(caches[0] + ".rejected", std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()), garbage);
  std::filesystem::remove_all(dir);
}

}  // namespace
