// What the store may trust: imported and stored values within their limits
// (a bad row is refused naming the row and field, nothing written), stores
// opened read-only (frozen mode, shipped stores), a bounded wait for a store
// another process holds locked, and stale rows marked in listings.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::read_bytes;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;

constexpr ShapeBucket kBucket{10, 4};

// The key fields of one row of the test device, as JSON members.
std::string device_fields() {
  return R"j("backend": "vulkan", "uuid": "6c6c766d-7069-7065-5555-494400000000",
    "device_name": "llvmpipe (LLVM 15.0.6, 256 bits)", "driver_version": "23.2.1",
    "api_version": "1.3.255", "spool_version": "0.1.0")j";
}

std::string kernel_fields(const std::string& variant = "wg=64") {
  return device_fields() + R"j(, "kernel": "saxpy", "source_hash": "sha256:aaaa", "log2_items": 10,
    "log2_grid": 4, "variant": ")j" + variant + "\"";
}

std::string profile_row(const std::string& launch_ns) {
  return "{" + device_fields() + ", \"launch_ns\": " + launch_ns +
         R"j(, "record_setup_ns": 2000, "replay_ns": 700, "persistent_setup_ns": 9000,
    "queue_item_ns": 300, "samples": 8, "measured_at_unix": 1700000000})j";
}

std::string observation_row(const std::string& count, const std::string& mean, const std::string& m2,
                            const std::string& variant = "wg=64") {
  return "{" + kernel_fields(variant) + ", \"count\": " + count + ", \"mean_ns\": " + mean + ", \"m2\": " + m2 +
         ", \"updated_at_unix\": 1700000000}";
}

std::string doc(const std::string& table, const std::string& rows) {
  return R"j({"format": "spool-autotune", "format_version": 1, ")j" + table + "\": [" + rows + "]}";
}

// A store with one row in every table; import_json of `json` must throw an
// Error whose what() contains every `expected` text, and change nothing.
void expect_refused(const std::string& json, std::initializer_list<const char*> expected) {
  auto s = Store::open(":memory:");
  s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 100);
  s->set_winner(lavapipe(), saxpy(), kBucket, "wg=64");
  const std::string before = s->export_json();
  try {
    s->import_json(json);
    ADD_FAILURE() << "accepted: " << json;
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument) << e.what();
    for (const char* text : expected) EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
  EXPECT_EQ(s->export_json(), before);
}

TEST(Import, RefusesANegativeLaunchTimeNamingRowAndField) {
  expect_refused(doc("launch_profiles", profile_row("1000") + ", " + profile_row("-1e12")),
                 {"launch_profiles[1]", "'launch_ns'", "-1e+12", "nothing was imported"});
}

TEST(Import, RefusesAHugeLaunchTime) {
  expect_refused(doc("launch_profiles", profile_row("1e300")), {"launch_profiles[0]", "'launch_ns'"});
}

TEST(Import, RefusesNegativeMeansAndVariances) {
  expect_refused(doc("observations", observation_row("3", "-5", "1")), {"observations[0]", "'mean_ns'"});
  expect_refused(doc("observations", observation_row("3", "5", "-1")), {"observations[0]", "'m2'"});
}

TEST(Import, RefusesInconsistentCounts) {
  expect_refused(doc("observations", observation_row("1", "5", "2")), {"observations[0]", "'m2'", "count 1"});
  expect_refused(doc("observations", observation_row("0", "5", "0")), {"observations[0]", "'mean_ns'", "count 0"});
  expect_refused(doc("observations", observation_row("-2", "5", "0")), {"observations[0]", "'count'"});
}

TEST(Import, RefusesDuplicateRows) {
  expect_refused(doc("observations", observation_row("2", "5", "1") + ", " + observation_row("4", "6", "1")),
                 {"observations[1]", "duplicates observations[0]"});
  expect_refused(doc("launch_profiles", profile_row("1000") + ", " + profile_row("2000")),
                 {"launch_profiles[1]", "duplicates launch_profiles[0]"});
}

TEST(Import, RefusesAVariantThatIsBothWinnerAndRejected) {
  const std::string json = R"j({"format": "spool-autotune", "format_version": 1, "winners": [{)j" + kernel_fields() +
                           R"j(, "decided_at_unix": 1700000000}], "rejections": [{)j" + kernel_fields() +
                           R"j(, "rejected_at_unix": 1700000000}]})j";
  expect_refused(json, {"rejections[0]", "also the winner in winners[0]"});
}

TEST(Import, RefusesBadKeysAndTimes) {
  std::string row = observation_row("2", "5", "1");
  row.replace(row.find("\"vulkan\""), 8, "\"opengl\"");
  expect_refused(doc("observations", row), {"observations[0]", "'backend'"});
  row = observation_row("2", "5", "1", "");
  expect_refused(doc("observations", row), {"observations[0]", "'variant' is empty"});
  row = observation_row("2", "5", "1");
  row.replace(row.find("1700000000"), 10, "-1");
  expect_refused(doc("observations", row), {"observations[0]", "'updated_at_unix'"});
}

TEST(Import, AcceptsValuesAtTheLimits) {
  auto s = Store::open(":memory:");
  EXPECT_EQ(s->import_json(doc("observations", observation_row("1", "1e12", "0") + ", " +
                                                   observation_row("0", "0", "0", "wg=32"))),
            2u);
}

// Raw SQL, as a hand edit or another tool would write it.
void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(StoredValues, RefusesAProfileRowOutsideTheLimitsWhenReadNamingRowAndField) {
  TempDir dir;
  const std::string path = dir.file("s.sqlite");
  {
    auto s = Store::open(path);
    LaunchProfileRecord p;
    p.launch_ns = 1000;
    s->save_profile(lavapipe(), p);
  }
  exec(path, "UPDATE launch_profiles SET launch_ns = -1e12");
  auto s = Store::open(path);
  try {
    (void)s->load_profile(lavapipe());
    ADD_FAILURE() << "a negative launch time was returned";
  } catch (const spool::Error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("launch_profiles row (vulkan 'llvmpipe"), std::string::npos) << w;
    EXPECT_NE(w.find("'launch_ns' = -1e+12"), std::string::npos) << w;
  }
}

TEST(StoredValues, RefusesAnObservationRowOutsideTheLimitsWhenRead) {
  TempDir dir;
  const std::string path = dir.file("s.sqlite");
  {
    auto s = Store::open(path);
    s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 100);
    s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 120);
  }
  exec(path, "UPDATE observations SET m2 = -4");
  auto s = Store::open(path);
  EXPECT_THROW((void)s->observation(lavapipe(), saxpy(), kBucket, "wg=64"), Error);
  // An observation is not added on top of a bad row either.
  EXPECT_THROW(s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 100), Error);
}

TEST(StoredValues, RefusesToSaveValuesOutsideTheLimits) {
  auto s = Store::open(":memory:");
  LaunchProfileRecord p;
  p.launch_ns = std::nan("");
  EXPECT_THROW(s->save_profile(lavapipe(), p), Error);
  p.launch_ns = 2e12;
  EXPECT_THROW(s->save_profile(lavapipe(), p), Error);
  EXPECT_FALSE(s->load_profile(lavapipe()).has_value());
  EXPECT_THROW(s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 2e12), Error);
  EXPECT_THROW(s->set_winner(lavapipe(), saxpy(), kBucket, ""), Error);
  EXPECT_THROW(s->set_winner(DeviceKey{"metal", "u", "d", "1", "1"}, saxpy(), kBucket, "wg=64"), Error);
}

// A pre-tuned store: a winner and its WAL companions checkpointed away.
std::string make_tuned_store(const TempDir& dir) {
  const std::string path = dir.file("tuned.sqlite");
  auto s = Store::open(path);
  s->set_winner(lavapipe(), saxpy(), kBucket, "wg=128");
  return path;
}

TEST(ReadOnlyStore, ReadsWinnersAndWritesNothing) {
  TempDir dir;
  const std::string path = make_tuned_store(dir);
  const std::string bytes = read_bytes(path);
  {
    OpenOptions o;
    o.read_only = true;
    auto s = Store::open(path, o);
    EXPECT_TRUE(s->read_only());
    EXPECT_EQ(s->winner(lavapipe(), saxpy(), kBucket), "wg=128");
    EXPECT_THROW(s->set_winner(lavapipe(), saxpy(), kBucket, "wg=64"), spool::Error);
    EXPECT_THROW(s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 5), spool::Error);
    s->record_current(lavapipe(), saxpy());  // ignored, not an error
  }
  EXPECT_EQ(read_bytes(path), bytes);
  // SQLite's readers may leave an empty WAL behind (its shared-memory
  // protocol), never data.
  if (fs::exists(path + "-wal")) {
    EXPECT_EQ(fs::file_size(path + "-wal"), 0u);
  }
}

TEST(ReadOnlyStore, RefusesAMissingFileWithoutCreatingIt) {
  TempDir dir;
  OpenOptions o;
  o.read_only = true;
  EXPECT_THROW((void)Store::open(dir.file("none.sqlite"), o), spool::Error);
  EXPECT_FALSE(fs::exists(dir.file("none.sqlite")));
}

// In a child that cannot write the file or its directory (an unprivileged
// user when the tests run as root: root ignores file modes).
TEST(ReadOnlyStore, WorksWhenTheProcessCannotWriteTheFileOrItsDirectory) {
  TempDir dir;
  const std::string path = make_tuned_store(dir);
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    int rc = 0;
    try {
      OpenOptions o;
      o.read_only = true;
      auto s = Store::open(path, o);
      rc = s->winner(lavapipe(), saxpy(), kBucket) == "wg=128" ? 0 : 1;
    } catch (...) {
      rc = 2;
    }
    _exit(rc);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  fs::permissions(dir.path(), fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: wrong winner, 2: open/read failed, 3: could not drop privileges";
  // A writable open by the same unprivileged process fails instead (so the
  // runtime's frozen mode must open read-only).
}

// Another connection (another process, as far as SQLite's locks go) holds
// the write lock; an open gives up after the busy timeout, not 10 s later.
TEST(LockedStore, GivesUpAfterTheBusyTimeout) {
  TempDir dir;
  const std::string path = make_tuned_store(dir);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  OpenOptions o;
  o.busy_timeout = std::chrono::milliseconds(100);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)Store::open(path, o);
    ADD_FAILURE() << "opened a store another connection holds locked";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::timeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("100 ms"), std::string::npos) << e.what();
  }
  // Generous: the default busy timeout is 10 s; the bound here is 100 ms.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // Readers are not blocked by a writer (WAL): a read-only open works.
  OpenOptions ro = o;
  ro.read_only = true;
  EXPECT_EQ(Store::open(path, ro)->winner(lavapipe(), saxpy(), kBucket), "wg=128");
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  EXPECT_FALSE(Store::open(path, o)->in_memory());
}

TEST(StaleRows, AreMarkedInListingsAgainstTheKeyTheLatestProcessUsed) {
  auto s = Store::open(":memory:");
  s->add_observation(lavapipe(), saxpy("sha256:old"), kBucket, "wg=64", 100);
  s->set_winner(lavapipe(), saxpy("sha256:old"), kBucket, "wg=64");
  s->add_observation(lavapipe("23.3.0"), saxpy("sha256:new"), kBucket, "wg=64", 100);
  LaunchProfileRecord p;
  p.launch_ns = 1000;
  s->save_profile(lavapipe(), p);
  // Nothing recorded yet: nothing is known to be stale.
  for (const auto& r : s->list_observations()) EXPECT_EQ(r.stale, "");
  s->record_current(lavapipe("23.3.0"), KernelKey{});  // the device (profiles)
  s->record_current(lavapipe("23.3.0"), saxpy("sha256:new"));
  const auto obs = s->list_observations();
  ASSERT_EQ(obs.size(), 2u);
  for (const auto& r : obs) {
    if (r.kernel.source_hash == "sha256:old") {
      EXPECT_EQ(r.stale, "driver 23.2.1 != 23.3.0, source hash sha256:old != sha256:new (current)");
    } else {
      EXPECT_EQ(r.stale, "");
    }
  }
  ASSERT_EQ(s->list_winners().size(), 1u);
  EXPECT_NE(s->list_winners()[0].stale, "");
  ASSERT_EQ(s->list_profiles().size(), 1u);
  EXPECT_EQ(s->list_profiles()[0].stale, "driver 23.2.1 != 23.3.0 (current)");
}

}  // namespace
