// Runs the built `spool` binary: outputs and exit codes of `spool autotune ...`.
#include <sqlite3.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::read_bytes;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;
using spool::autotune::test::write_bytes;

struct Result {
  int rc = -1;
  std::string output;  // stdout and stderr together
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Result spool_cli(const std::string& args) {
  const std::string cmd = quote(SPOOL_CLI_PATH) + " " + args + " 2>&1";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

constexpr ShapeBucket kBucket{10, 4};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.file("store.sqlite");
    auto s = Store::open(db_);
    LaunchProfileRecord p;
    p.launch_ns = 35000;
    p.samples = 8;
    s->save_profile(lavapipe(), p);
    s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 100);
    s->add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 110);
    s->add_observation(lavapipe(), saxpy(), kBucket, "wg=256,body=alt", 80);
    s->set_winner(lavapipe(), saxpy(), kBucket, "wg=256,body=alt");
    s->reject(lavapipe(), saxpy(), kBucket, "wg=32");
  }
  std::string db() const { return "--db " + quote(db_); }

  TempDir dir_;
  std::string db_;
};

TEST_F(Cli, ListsProfilesAndKernelsWhenStoreHasRows) {
  const Result r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("launch profiles: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("llvmpipe"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("saxpy source=sha256:aaaa variants=2 samples=3 winners=1 rejected=1"),
            std::string::npos)
      << r.output;
}

TEST_F(Cli, ShowsObservationsWinnersAndRejectionsWhenKernelKnown) {
  const Result r = spool_cli(db() + " autotune show saxpy");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("variant=wg=64: n=2 mean=105 ns"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("items=2^10 grid=2^4 -> wg=256,body=alt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rejections: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("variant=wg=32"), std::string::npos) << r.output;
}

TEST_F(Cli, FailsWithMessageWhenKernelUnknown) {
  const Result r = spool_cli(db() + " autotune show nosuch");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("no entries for kernel 'nosuch'"), std::string::npos) << r.output;
}

TEST_F(Cli, RestoresTheStoreWhenExportedClearedAndImported) {
  const std::string file = dir_.file("export.json");
  std::string before;
  {
    before = Store::open(db_)->export_json();
  }
  Result r = spool_cli(db() + " autotune export " + quote(file));
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(read_bytes(file), before);

  r = spool_cli("--db=" + quote(db_) + " autotune clear");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("cleared 5 rows"), std::string::npos) << r.output;
  r = spool_cli(db() + " autotune list");
  EXPECT_NE(r.output.find("kernels: 0"), std::string::npos) << r.output;

  r = spool_cli(db() + " autotune import " + quote(file));
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("imported 5 rows"), std::string::npos) << r.output;
  r = spool_cli(db() + " autotune export");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.output, before);
}

TEST_F(Cli, FailsAndChangesNothingWhenImportIsMalformed) {
  const std::string before = Store::open(db_)->export_json();
  const std::string bad = dir_.file("bad.json");
  write_bytes(bad, "{\"format\": \"spool-autotune\", \"observations\": [");
  const Result r = spool_cli(db() + " autotune import " + quote(bad));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("malformed JSON"), std::string::npos) << r.output;
  EXPECT_EQ(Store::open(db_)->export_json(), before);
}

TEST_F(Cli, MarksStaleRowsWhenListing) {
  {
    auto s = Store::open(db_);
    s->add_observation(lavapipe(), saxpy("sha256:bbbb"), kBucket, "wg=64", 90);
    s->record_current(lavapipe(), saxpy("sha256:bbbb"));  // what the latest run used
  }
  const Result r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("saxpy source=sha256:aaaa variants=2 samples=3 winners=1 rejected=1 STALE: 4 rows "
                          "(source hash sha256:aaaa != sha256:bbbb (current))"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("saxpy source=sha256:bbbb variants=1 samples=1 winners=0 rejected=0\n"),
            std::string::npos)
      << r.output;
  const Result show = spool_cli(db() + " autotune show saxpy");
  EXPECT_NE(show.output.find("-> wg=256,body=alt (decided "), std::string::npos) << show.output;
  EXPECT_NE(show.output.find(") STALE (source hash sha256:aaaa != sha256:bbbb (current))"), std::string::npos)
      << show.output;
}

TEST_F(Cli, RefusesAnImportWithABadValueNamingRowAndFieldAndWritesNothing) {
  const std::string before = read_bytes(db_);
  const std::string json = dir_.file("bad.json");
  {
    auto other = Store::open(":memory:");
    LaunchProfileRecord p;
    p.launch_ns = 1000;
    other->save_profile(lavapipe("9.9"), p);
    std::string text = other->export_json();
    text.replace(text.find("\"launch_ns\": 1000.0"), 19, "\"launch_ns\": -1e12");
    write_bytes(json, text);
  }
  const Result r = spool_cli(db() + " autotune import " + quote(json));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("launch_profiles[0]: field 'launch_ns' = -1e+12"), std::string::npos) << r.output;
  auto s = Store::open(db_);
  EXPECT_FALSE(s->load_profile(lavapipe("9.9")).has_value());
}

// A row written behind the store's back (raw SQL) with an absurd value is
// shown bounded and marked, never trusted.
TEST_F(Cli, MarksInvalidRowsAndPrintsThemBoundedWhenListing) {
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "UPDATE launch_profiles SET persistent_setup_ns = 1e300", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  const Result r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("P=1e+300 ns"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("INVALID (field 'persistent_setup_ns' = 1e+300"), std::string::npos) << r.output;
  for (std::size_t start = 0, end; start < r.output.size(); start = end + 1) {
    end = r.output.find('\n', start);
    if (end == std::string::npos) end = r.output.size();
    EXPECT_LT(end - start, 400u) << r.output.substr(start, end - start);
  }
}

// `list` only reads: a corrupt store is reported and left where it is
// (writing commands move it aside, as the runtime does).
TEST_F(Cli, FailsAndLeavesTheFileInPlaceWhenListingACorruptStore) {
  const std::string bad = dir_.file("corrupt.sqlite");
  const std::string garbage(512, '\x7f');
  write_bytes(bad, garbage);
  const Result r = spool_cli("--db " + quote(bad) + " autotune list");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("file is not a database"), std::string::npos) << r.output;
  EXPECT_EQ(read_bytes(bad), garbage);
}

TEST_F(Cli, FailsSayingWhereTheFileWentWhenImportingIntoACorruptStore) {
  const std::string bad = dir_.file("corrupt.sqlite");
  const std::string garbage(512, '\x7f');
  write_bytes(bad, garbage);
  const std::string json = dir_.file("rows.json");
  write_bytes(json, Store::open(":memory:")->export_json());
  const Result r = spool_cli("--db " + quote(bad) + " autotune import " + quote(json));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("moved aside to '" + bad + ".corrupt-"), std::string::npos) << r.output;
  bool kept = false;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    if (e.path().filename().string().rfind("corrupt.sqlite.corrupt-", 0) == 0) {
      kept = read_bytes(e.path().string()) == garbage;
    }
  }
  EXPECT_TRUE(kept);
}

TEST_F(Cli, DoesNotCreateTheFileWhenListingAMissingStore) {
  const std::string missing = dir_.file("missing/store.sqlite");
  const Result r = spool_cli("--db " + quote(missing) + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("kernels: 0"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(Cli, ExitsWithUsageErrorWhenArgumentsAreWrong) {
  for (const std::string args :
       {"", "frobnicate", "autotune", "autotune frob", "autotune list extra", "autotune show",
        "autotune show a b", "autotune export a b", "autotune import", "autotune list --db",
        "--bogus"}) {
    const Result r = spool_cli(db() + " " + args);
    EXPECT_EQ(r.rc, 2) << "args: " << args << "\n" << r.output;
    EXPECT_NE(r.output.find("spool --help"), std::string::npos) << "args: " << args << "\n"
                                                                 << r.output;
  }
}

TEST_F(Cli, PrintsHelpAndVersionWhenAsked) {
  Result r = spool_cli("--help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.output.find("Usage: spool"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("autotune"), std::string::npos) << r.output;
  r = spool_cli("autotune --help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.output.find("import <file>"), std::string::npos) << r.output;
  r = spool_cli("--version");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.output, "spool " + std::string(spool_version()) + "\n");
}

}  // namespace
