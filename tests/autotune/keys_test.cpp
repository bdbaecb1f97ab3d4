#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spool/autotune/store.hpp"

namespace {

using spool::autotune::bucket_for;
using spool::autotune::Error;
using spool::autotune::Observation;
using spool::autotune::ShapeBucket;
using spool::autotune::Store;

TEST(ShapeBucket, IsZeroWhenItemsOrGridAreZeroOrOne) {
  EXPECT_EQ(bucket_for(0, 0), (ShapeBucket{0, 0}));
  EXPECT_EQ(bucket_for(1, 1), (ShapeBucket{0, 0}));
  EXPECT_EQ(bucket_for(0, 1), (ShapeBucket{0, 0}));
}

TEST(ShapeBucket, IsFloorLog2WhenBetweenPowersOfTwo) {
  EXPECT_EQ(bucket_for(2, 3), (ShapeBucket{1, 1}));
  EXPECT_EQ(bucket_for(1023, 1024), (ShapeBucket{9, 10}));
  EXPECT_EQ(bucket_for(1025, 65535), (ShapeBucket{10, 15}));
}

TEST(ShapeBucket, Is63WhenAtTheTopOfU64) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(bucket_for(kMax, std::uint64_t{1} << 63), (ShapeBucket{63, 63}));
}

TEST(Observation, VarianceIsZeroWhenFewerThanTwoSamples) {
  EXPECT_EQ((Observation{0, 0, 0}).variance(), 0.0);
  EXPECT_EQ((Observation{1, 5, 3}).variance(), 0.0);
}

TEST(Observation, VarianceIsSampleVarianceWhenSeveralSamples) {
  EXPECT_DOUBLE_EQ((Observation{5, 3, 10}).variance(), 2.5);
}

TEST(SpoolVersion, IsTheCMakeProjectVersionWhenBuilt) {
  EXPECT_EQ(spool::autotune::spool_version(), SPOOL_TEST_EXPECTED_VERSION);
}

TEST(VariantState, HasReadableNames) {
  using spool::autotune::VariantState;
  EXPECT_EQ(to_string(VariantState::candidate), "candidate");
  EXPECT_EQ(to_string(VariantState::racing), "racing");
  EXPECT_EQ(to_string(VariantState::winner), "winner");
  EXPECT_EQ(to_string(VariantState::rejected), "rejected");
}

// Sets environment variables for one test and restores them.
class Env {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~Env() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(DefaultPath, IsSpoolAutotuneDbWhenSet) {
  Env env;
  env.set("SPOOL_AUTOTUNE_DB", "/tmp/x/store.sqlite");
  env.set("XDG_CACHE_HOME", "/tmp/xdg");
  EXPECT_EQ(Store::default_path(), "/tmp/x/store.sqlite");
}

TEST(DefaultPath, IsUnderXdgCacheHomeWhenSetAndAbsolute) {
  Env env;
  env.set("SPOOL_AUTOTUNE_DB", nullptr);
  env.set("XDG_CACHE_HOME", "/tmp/xdg");
  EXPECT_EQ(Store::default_path(), "/tmp/xdg/spool/autotune.sqlite");
}

TEST(DefaultPath, IsUnderHomeCacheWhenXdgUnsetOrRelative) {
  Env env;
  env.set("SPOOL_AUTOTUNE_DB", "");
  env.set("HOME", "/home/someone");
  env.set("XDG_CACHE_HOME", "relative/dir");
  EXPECT_EQ(Store::default_path(), "/home/someone/.cache/spool/autotune.sqlite");
  env.set("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(Store::default_path(), "/home/someone/.cache/spool/autotune.sqlite");
}

TEST(Error, NamesCallSqliteErrorAndPathWhenFromSqlite) {
  const Error e("sqlite3_step", 5 /* SQLITE_BUSY */, "database is locked", "/tmp/s.sqlite");
  const std::string w = e.what();
  EXPECT_NE(w.find("sqlite3_step"), std::string::npos) << w;
  EXPECT_NE(w.find("SQLITE_BUSY"), std::string::npos) << w;
  EXPECT_NE(w.find("database is locked"), std::string::npos) << w;
  EXPECT_NE(w.find("/tmp/s.sqlite"), std::string::npos) << w;
  EXPECT_EQ(e.sqlite_code(), 5);
  EXPECT_EQ(e.call(), "sqlite3_step");
}

TEST(Error, IsASpoolErrorWithAKind) {
  // One hierarchy: `catch (const spool::Error&)` catches store failures too.
  try {
    throw Error("sqlite3_step", 5 /* SQLITE_BUSY */, "database is locked", "/tmp/s.sqlite");
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::timeout);
    EXPECT_EQ(e.native(), "SQLITE_BUSY");
  }
  try {
    throw Error("sqlite3_step", 11 /* SQLITE_CORRUPT */, "malformed", "/tmp/s.sqlite");
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::storage);
  }
  try {
    throw Error("import_json", "observations[0]: field 'count' is missing", "/tmp/s.sqlite");
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("field 'count'"), std::string::npos) << e.what();
  }
}

}  // namespace
