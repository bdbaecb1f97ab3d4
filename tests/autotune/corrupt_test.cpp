// A corrupt or unreadable store is moved aside (bytes kept), never destroyed;
// the store goes on in memory. Files that are not Spool stores are untouched.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::read_bytes;
using spool::autotune::test::saxpy;
using spool::autotune::test::aside_files;
using spool::autotune::test::TempDir;
using spool::autotune::test::write_bytes;

void expect_works_in_memory(Store& s) {
  EXPECT_TRUE(s.in_memory());
  EXPECT_EQ(s.path(), ":memory:");
  s.add_observation(lavapipe(), saxpy(), {}, "wg=64", 5);
  EXPECT_EQ(s.observation(lavapipe(), saxpy(), {}, "wg=64")->count, 1u);
}

// Opens `path` holding `bytes`; checks the warning, the moved file and the fallback.
void expect_moved_aside(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("store.sqlite");
  write_bytes(path, bytes);
  std::string warning;
  auto s = Store::open(path, &warning);
  ASSERT_FALSE(warning.empty());
  EXPECT_NE(warning.find(path), std::string::npos) << warning;
  EXPECT_NE(warning.find("moved aside"), std::string::npos) << warning;
  EXPECT_NE(warning.find("in-memory"), std::string::npos) << warning;
  const auto aside = aside_files(dir, "store.sqlite");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_NE(warning.find(aside[0].string()), std::string::npos) << warning;
  EXPECT_EQ(read_bytes(aside[0].string()), bytes);  // every byte kept
  expect_works_in_memory(*s);
  EXPECT_FALSE(fs::exists(path)) << "the in-memory fallback must not recreate the file";
}

TEST(Corrupt, MovesFileAsideWhenItIsGarbage) {
  TempDir dir;
  std::string garbage = "this is not an sqlite database\n";
  for (int i = 0; i < 200; ++i) garbage += static_cast<char>(i * 37 + 11);
  expect_moved_aside(dir, garbage);
}

TEST(Corrupt, MovesFileAsideWhenHeaderIsSqliteButBodyIsGarbage) {
  TempDir dir;
  std::string bytes("SQLite format 3\0", 16);
  bytes += std::string(4000, '\x5a');
  expect_moved_aside(dir, bytes);
}

TEST(Corrupt, MovesFileAsideWhenPagesOfARealStoreAreOverwritten) {
  TempDir dir;
  const std::string path = dir.file("store.sqlite");
  {
    auto s = Store::open(path);
    for (int i = 0; i < 300; ++i) {
      s->add_observation(lavapipe(), saxpy(), bucket_for(static_cast<std::uint64_t>(i), 1),
                         "wg=" + std::to_string(i), 1);
    }
  }  // last connection closed: WAL checkpointed into the main file
  std::string bytes = read_bytes(path);
  ASSERT_GT(bytes.size(), 3u * 4096u);
  for (std::size_t i = 4096; i < 3 * 4096; ++i) bytes[i] = static_cast<char>(0xA5 ^ (i & 0xff));
  expect_moved_aside(dir, bytes);
}

TEST(Corrupt, NeverOverwritesAnEarlierAsideFileWhenCorruptAgain) {
  TempDir dir;
  const std::string path = dir.file("store.sqlite");
  write_bytes(path, "first garbage, long enough to not be an empty database file.....");
  Store::open(path);
  write_bytes(path, "second garbage, long enough to not be an empty database file....");
  std::string warning;
  Store::open(path, &warning);
  const auto aside = aside_files(dir, "store.sqlite");
  ASSERT_EQ(aside.size(), 2u) << warning;
  std::vector<std::string> contents{read_bytes(aside[0].string()), read_bytes(aside[1].string())};
  std::sort(contents.begin(), contents.end());
  EXPECT_EQ(contents[0].rfind("first", 0), 0u);
  EXPECT_EQ(contents[1].rfind("second", 0), 0u);
}

TEST(Corrupt, ContinuesInMemoryWhenNoWarningRequested) {
  TempDir dir;
  const std::string path = dir.file("store.sqlite");
  write_bytes(path, std::string(1024, 'x'));
  auto s = Store::open(path, nullptr);
  expect_works_in_memory(*s);
  EXPECT_EQ(aside_files(dir, "store.sqlite").size(), 1u);
}

// Creates an SQLite file with raw SQL.
void make_db(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

TEST(Corrupt, ThrowsAndLeavesFileUntouchedWhenItIsAnotherApplicationsDatabase) {
  TempDir dir;
  const std::string path = dir.file("other.sqlite");
  make_db(path, "CREATE TABLE customers (id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'a');");
  const std::string before = read_bytes(path);
  try {
    Store::open(path);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a Spool autotune store"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_TRUE(aside_files(dir, "other.sqlite").empty());
}

TEST(Corrupt, ThrowsAndLeavesFileUntouchedWhenSchemaIsNewer) {
  TempDir dir;
  const std::string path = dir.file("future.sqlite");
  make_db(path, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                "INSERT INTO schema_version VALUES (99);");
  const std::string before = read_bytes(path);
  try {
    Store::open(path);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_bytes(path), before);
}

}  // namespace
