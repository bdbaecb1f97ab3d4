// A schema v1 store (written by hand here, with raw SQL) is migrated to v2.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;

// Schema v1 as Spool 0.0.x wrote it: no spool_version anywhere, no m2 (variance).
constexpr const char* kV1 = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE launch_profiles (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL,
  launch_ns REAL NOT NULL, record_setup_ns REAL NOT NULL, replay_ns REAL NOT NULL,
  persistent_setup_ns REAL NOT NULL, queue_item_ns REAL NOT NULL,
  samples INTEGER NOT NULL, measured_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version));
CREATE TABLE observations (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL,
  kernel TEXT NOT NULL, source_hash TEXT NOT NULL, log2_items INTEGER NOT NULL,
  log2_grid INTEGER NOT NULL, variant TEXT NOT NULL,
  count INTEGER NOT NULL, mean_ns REAL NOT NULL, updated_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, kernel, source_hash,
               log2_items, log2_grid, variant));
CREATE TABLE winners (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL,
  kernel TEXT NOT NULL, source_hash TEXT NOT NULL, log2_items INTEGER NOT NULL,
  log2_grid INTEGER NOT NULL, variant TEXT NOT NULL, decided_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, kernel, source_hash,
               log2_items, log2_grid));
CREATE TABLE rejections (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL,
  kernel TEXT NOT NULL, source_hash TEXT NOT NULL, log2_items INTEGER NOT NULL,
  log2_grid INTEGER NOT NULL, variant TEXT NOT NULL, rejected_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, kernel, source_hash,
               log2_items, log2_grid, variant));
)sql";

// The rows use the test keys lavapipe() / saxpy(), bucket (10, 4).
constexpr const char* kV1Rows = R"sql(
INSERT INTO launch_profiles VALUES ('vulkan', '6c6c766d-7069-7065-5555-494400000000',
  'llvmpipe (LLVM 15.0.6, 256 bits)', '23.2.1', '1.3.255', 35000, 20000, 7000, 200000, 700, 16, 1600000000);
INSERT INTO observations VALUES ('vulkan', '6c6c766d-7069-7065-5555-494400000000',
  'llvmpipe (LLVM 15.0.6, 256 bits)', '23.2.1', '1.3.255', 'saxpy', 'sha256:aaaa', 10, 4, 'wg=64',
  12, 250.5, 1600000001);
INSERT INTO observations VALUES ('vulkan', '6c6c766d-7069-7065-5555-494400000000',
  'llvmpipe (LLVM 15.0.6, 256 bits)', '23.2.1', '1.3.255', 'saxpy', 'sha256:aaaa', 10, 4, 'wg=128',
  9, 199.0, 1600000002);
INSERT INTO winners VALUES ('vulkan', '6c6c766d-7069-7065-5555-494400000000',
  'llvmpipe (LLVM 15.0.6, 256 bits)', '23.2.1', '1.3.255', 'saxpy', 'sha256:aaaa', 10, 4, 'wg=128', 1600000003);
INSERT INTO rejections VALUES ('vulkan', '6c6c766d-7069-7065-5555-494400000000',
  'llvmpipe (LLVM 15.0.6, 256 bits)', '23.2.1', '1.3.255', 'saxpy', 'sha256:aaaa', 10, 4, 'wg=32', 1600000004);
)sql";

void exec_raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

std::set<std::string> columns(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  std::set<std::string> out;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT name FROM pragma_table_info('" + table + "')";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

constexpr ShapeBucket kBucket{10, 4};

TEST(Migration, UpgradesToCurrentSchemaWhenOpeningAV1Store) {
  TempDir dir;
  const std::string path = dir.file("v1.sqlite");
  exec_raw(path, std::string(kV1) + kV1Rows);
  ASSERT_FALSE(columns(path, "observations").count("m2"));

  {
    std::string warning;
    auto s = Store::open(path, &warning);
    EXPECT_TRUE(warning.empty()) << warning;
    EXPECT_FALSE(s->in_memory());
    EXPECT_EQ(s->schema_version(), Store::kSchemaVersion);
  }
  const auto obs = columns(path, "observations");
  EXPECT_TRUE(obs.count("m2"));
  EXPECT_TRUE(obs.count("spool_version"));
  EXPECT_TRUE(columns(path, "launch_profiles").count("spool_version"));
  EXPECT_TRUE(columns(path, "winners").count("spool_version"));
  EXPECT_TRUE(columns(path, "rejections").count("spool_version"));
}

TEST(Migration, KeepsEveryRowWithUnknownSpoolVersionWhenMigrating) {
  TempDir dir;
  const std::string path = dir.file("v1.sqlite");
  exec_raw(path, std::string(kV1) + kV1Rows);
  auto s = Store::open(path);
  const auto profiles = s->list_profiles();
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0].spool_version, "unknown (schema v1)");
  EXPECT_EQ(profiles[0].profile.launch_ns, 35000);
  EXPECT_EQ(profiles[0].profile.samples, 16u);
  const auto obs = s->list_observations("saxpy");
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[0].variant, "wg=128");  // ordered by key
  EXPECT_EQ(obs[0].observation.count, 9u);
  EXPECT_EQ(obs[0].observation.mean_ns, 199.0);
  EXPECT_EQ(obs[0].observation.m2, 0.0);  // v1 recorded no variance
  EXPECT_EQ(obs[0].bucket, kBucket);
  ASSERT_EQ(s->list_winners().size(), 1u);
  EXPECT_EQ(s->list_winners()[0].at_unix, 1600000003);
  ASSERT_EQ(s->list_rejections().size(), 1u);
  EXPECT_EQ(s->list_rejections()[0].variant, "wg=32");
}

TEST(Migration, ReportsMigratedRowsStaleInsteadOfUsingThemWhenSpoolVersionUnknown) {
  TempDir dir;
  const std::string path = dir.file("v1.sqlite");
  exec_raw(path, std::string(kV1) + kV1Rows);
  auto s = Store::open(path);
  EXPECT_FALSE(s->load_profile(lavapipe()).has_value());
  EXPECT_FALSE(s->winner(lavapipe(), saxpy(), kBucket).has_value());
  EXPECT_FALSE(s->observation(lavapipe(), saxpy(), kBucket, "wg=64").has_value());
  const StaleReport r = s->stale(lavapipe(), saxpy());
  EXPECT_EQ(r.stale_profiles, 1u);
  EXPECT_EQ(r.stale_observations, 2u);
  EXPECT_EQ(r.stale_winners, 1u);
  EXPECT_EQ(r.stale_rejections, 1u);
  ASSERT_FALSE(r.reasons.empty());
  EXPECT_NE(r.reasons[0].find("spool unknown (schema v1) != "), std::string::npos) << r.reasons[0];
}

TEST(Migration, IsANoOpWhenOpeningAMigratedStoreAgain) {
  TempDir dir;
  const std::string path = dir.file("v1.sqlite");
  exec_raw(path, std::string(kV1) + kV1Rows);
  Store::open(path);
  auto s = Store::open(path);
  EXPECT_EQ(s->schema_version(), Store::kSchemaVersion);
  EXPECT_EQ(s->list_observations().size(), 2u);
  s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 1);  // current key: a new row
  EXPECT_EQ(s->list_observations().size(), 3u);
}

}  // namespace
