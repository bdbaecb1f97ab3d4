// The runtime and its autotune store on lavapipe: frozen mode on a store the
// process cannot write, a store another process holds locked (bounded wait,
// then in memory with a warning), stale rows reported once, and a stored
// launch profile outside the limits measured again instead of trusted.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "spool/spool.hpp"
#include "store_key.hpp"

namespace {

using spool::test::key_of;

namespace fs = std::filesystem;
constexpr std::uint32_t kItems = 16, kGrid = 256;

struct Dir {
  fs::path path;
  explicit Dir(const char* name)
      : path(fs::path(testing::TempDir()) / (std::string("spool_trust_") + name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
  std::string file(const char* f) const { return (path / f).string(); }
};

std::shared_ptr<spool::Device> open(const std::string& db, const std::string& mode, bool calibrate = false) {
  spool::RuntimeOptions o;
  if (!calibrate) o.device_options.calibrate = false;
  o.device_options.autotune = mode;
  o.device_options.autotune_db = db;
  o.device_options.autotune_wg = "32";
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

spool::Verdict run_saxpy(spool::Device& d) {
  spool::Buffer x = d.buffer(kItems * kGrid * 4), y = d.buffer(kItems * kGrid * 4);
  spool::Batch b(d.kernel("saxpy"));
  for (std::uint32_t i = 0; i < kItems; ++i) {
    b.add(kGrid, {spool::arg(x, i * kGrid * 4), spool::arg(y, i * kGrid * 4), spool::arg(1.0f), spool::arg(kGrid)});
  }
  spool::SubmitOptions o;
  o.force_mode = spool::LaunchMode::launches;
  return d.run(std::move(b), o);
}

// A pre-tuned store: saxpy's winner is wg=128 (the default is wg=64).
bool write_tuned_store(const std::string& db) {
  auto dev = open(":memory:", "off");
  if (!dev) return false;
  auto store = spool::autotune::Store::open(db);
  store->set_winner(key_of(*dev), {"saxpy", dev->kernel("saxpy").source_hash()},
                    spool::autotune::bucket_for(kItems, kGrid), "wg=128");
  return true;
}

// Runs StoreTrust.<test> in a fresh process (this binary, exec'd), with the
// store path in its environment; everything is prepared before fork so the
// child only drops privileges and execs.
int run_child(const char* test, const std::string& db, bool drop_privileges) {
  const std::string filter = std::string("--gtest_filter=StoreTrust.") + test;
  std::vector<std::string> env_strings = {"SPOOL_TEST_TRUST_DB=" + db};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("SPOOL_TEST_TRUST_DB=", 0) != 0) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  char arg0[] = "store_trust_child";
  char also[] = "--gtest_also_run_disabled_tests";
  char* argv[] = {arg0, const_cast<char*>(filter.c_str()), also, nullptr};
  const bool drop = drop_privileges && getuid() == 0;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (drop && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(126);
    execve("/proc/self/exe", argv, envp.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// A shipped store: read-only file in a read-only directory, and a process
// that may not write either (an unprivileged user when the tests run as root).
TEST(StoreTrust, FrozenModeUsesAStoreTheProcessCannotWrite) {
  Dir dir("readonly");
  const std::string db = dir.file("tuned.sqlite");
  if (!write_tuned_store(db)) GTEST_SKIP() << "no Vulkan device";
  fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(run_child("DISABLED_FrozenChild", db, true), 0);
}

TEST(StoreTrust, DISABLED_FrozenChild) {
  const char* db = std::getenv("SPOOL_TEST_TRUST_DB");
  ASSERT_NE(db, nullptr);
  testing::internal::CaptureStderr();
  auto dev = open(db, "frozen");
  ASSERT_TRUE(dev);
  for (int i = 0; i < 3; ++i) {
    const auto v = run_saxpy(*dev);
    ASSERT_TRUE(v.ok()) << v.failure;
    EXPECT_EQ(v.variant, "wg=128") << "the stored winner was not used";
    EXPECT_TRUE(v.race_role.empty());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("unusable"), std::string::npos) << err;
}

TEST(StoreTrust, LockedStoreIsLeftAfterABoundedWaitWithAWarning) {
  Dir dir("locked");
  const std::string db = dir.file("locked.sqlite");
  if (!write_tuned_store(db)) GTEST_SKIP() << "no Vulkan device";
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  testing::internal::CaptureStderr();
  const auto t0 = std::chrono::steady_clock::now();
  auto dev = open(db, "race");
  const auto waited = std::chrono::steady_clock::now() - t0;
  const std::string err = testing::internal::GetCapturedStderr();
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  ASSERT_TRUE(dev);
  EXPECT_NE(err.find("250 ms"), std::string::npos) << err;
  EXPECT_NE(err.find("continuing with an in-memory store"), std::string::npos) << err;
  // Generous bound (the wait is 250 ms; SQLite's default busy wait was 10 s).
  EXPECT_LT(waited, std::chrono::seconds(5));
  // Racing goes on, in memory: the first batch is the race's baseline.
  const auto v = run_saxpy(*dev);
  EXPECT_TRUE(v.ok()) << v.failure;
  EXPECT_EQ(v.race_role, "baseline");
}

TEST(StoreTrust, StaleRowsAreReportedOncePerRun) {
  Dir dir("stale");
  const std::string db = dir.file("stale.sqlite");
  {
    auto dev = open(":memory:", "off");
    if (!dev) GTEST_SKIP() << "no Vulkan device";
    auto store = spool::autotune::Store::open(db);
    store->set_winner(key_of(*dev), {"saxpy", "sha256:0ld"}, spool::autotune::bucket_for(kItems, kGrid), "wg=32");
  }
  testing::internal::CaptureStderr();
  {
    auto dev = open(db, "race");
    ASSERT_TRUE(dev);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(run_saxpy(*dev).ok());
  }
  const std::string err = testing::internal::GetCapturedStderr();
  const std::string line = "1 stale rows of kernel 'saxpy' are not used (source hash sha256:0ld != sha256:";
  const auto first = err.find(line);
  EXPECT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find(line, first + 1), std::string::npos) << "reported more than once:\n" << err;
  // The run recorded its key: the CLI's listing marks the old row.
  auto store = spool::autotune::Store::open(db);
  const auto winners = store->list_winners("saxpy");
  ASSERT_EQ(winners.size(), 1u);
  EXPECT_NE(winners[0].stale.find("source hash sha256:0ld != sha256:"), std::string::npos) << winners[0].stale;
}

TEST(StoreTrust, StoredProfileOutsideTheLimitsIsMeasuredAgain) {
  Dir dir("profile");
  const std::string db = dir.file("profile.sqlite");
  {
    // Measured and stored as usual (under this process's key and placement).
    auto dev = open(db, "off", true);
    if (!dev) GTEST_SKIP() << "no Vulkan device";
    ASSERT_EQ(dev->profile().source, "calibrated");
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE launch_profiles SET launch_ns = -1e12", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(raw), 1);
  sqlite3_close(raw);
  testing::internal::CaptureStderr();
  auto dev = open(db, "off", true);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(dev);
  const spool::LaunchProfile p = dev->profile();
  EXPECT_EQ(p.source, "calibrated");
  EXPECT_GT(p.launch_ns, 0);
  EXPECT_NE(err.find("'launch_ns' = -1e+12"), std::string::npos) << err;
}

}  // namespace
