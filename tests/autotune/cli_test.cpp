// Runs the built `spool` binary: outputs and exit codes of `spool autotune ...`.
#include <sqlite3.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::read_bytes;
using spool::autotune::test::saxpy;
using spool::autotune::test::aside_files;
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

// Whether some line of `text`, split at spaces, holds `cells` one after another.
bool has_row(const std::string& text, const std::vector<std::string>& cells) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    for (std::size_t i = 0; i + cells.size() <= w.size(); ++i) {
      if (std::equal(cells.begin(), cells.end(), w.begin() + static_cast<std::ptrdiff_t>(i))) return true;
    }
  }
  return false;
}

TEST_F(Cli, ListsProfilesAndKernelsWhenStoreHasRows) {
  const Result r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("launch profiles: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("llvmpipe"), std::string::npos) << r.output;
  // kernel, source, variants, samples, winners, rejected
  EXPECT_TRUE(has_row(r.output, {"saxpy", "sha256:aaaa", "2", "3", "1", "1"})) << r.output;
}

TEST_F(Cli, ListJsonHasEveryRowSummarised) {
  const Result r = spool_cli(db() + " autotune list --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["profiles"].size(), 1u);
  EXPECT_DOUBLE_EQ(j["profiles"][0]["launch_ns"].get<double>(), 35000);
  EXPECT_EQ(j["profiles"][0]["device"]["driver"], "23.2.1");
  ASSERT_EQ(j["kernels"].size(), 1u);
  EXPECT_EQ(j["kernels"][0]["kernel"], "saxpy");
  EXPECT_EQ(j["kernels"][0]["variants"], 2);
  EXPECT_EQ(j["kernels"][0]["samples"], 3);
  EXPECT_EQ(j["kernels"][0]["winners"], 1);
  EXPECT_EQ(j["kernels"][0]["rejections"], 1);
}

TEST_F(Cli, MarksRowsOfAnotherSpoolVersionStaleAndPrunesThem) {
  {
    auto old = Store::open_as_version(db_, "0.0.9");
    old->add_observation(lavapipe(), saxpy(), kBucket, "wg=16", 90);
  }
  Result r = spool_cli(db() + " autotune show saxpy");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("STALE: spool 0.0.9 != " + std::string(spool_version())), std::string::npos) << r.output;
  r = spool_cli(db() + " autotune prune --dry-run");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(r.output.find("would prune 0 rows"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("would prune "), std::string::npos) << r.output;
  EXPECT_EQ(Store::open_as_version(db_, "0.0.9")->list_observations().size(), 3u);  // dry run: all kept
  r = spool_cli(db() + " autotune prune");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("spool 0.0.9 != "), std::string::npos) << r.output;
  bool old_left = false;
  for (const auto& o : Store::open(db_)->list_observations()) old_left = old_left || o.spool_version == "0.0.9";
  EXPECT_FALSE(old_left);
}

TEST_F(Cli, ClearsOnlyTheRowsOfTheKernelOrDeviceNamed) {
  {
    auto s = Store::open(db_);
    s->add_observation(lavapipe(), KernelKey{"tally", "sha256:bbbb"}, kBucket, "wg=64", 5);
    DeviceKey other{"cuda", "GPU-1234", "NVIDIA H100", "550.54", "12.4"};
    s->add_observation(other, saxpy(), kBucket, "wg=64", 7);
  }
  Result r = spool_cli(db() + " autotune clear --kernel tally");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("cleared 1 rows"), std::string::npos) << r.output;
  auto s = Store::open(db_);
  EXPECT_TRUE(s->list_observations("tally").empty());
  EXPECT_EQ(s->list_observations("saxpy").size(), 3u);
  s.reset();
  r = spool_cli(db() + " autotune clear --device h100");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("cleared 1 rows"), std::string::npos) << r.output;
  s = Store::open(db_);
  EXPECT_EQ(s->list_observations().size(), 2u);
  EXPECT_EQ(s->list_profiles().size(), 1u);  // the llvmpipe profile is kept
  s.reset();
  r = spool_cli(db() + " autotune clear --device llvmpipe --kernel saxpy");
  ASSERT_EQ(r.rc, 0) << r.output;
  s = Store::open(db_);
  EXPECT_TRUE(s->list_observations().empty());
  EXPECT_TRUE(s->list_winners().empty());
  EXPECT_EQ(s->list_profiles().size(), 1u);  // --kernel scopes profiles out
}

TEST_F(Cli, ShowsObservationsWinnersAndRejectionsWhenKernelKnown) {
  const Result r = spool_cli(db() + " autotune show saxpy");
  EXPECT_EQ(r.rc, 0) << r.output;
  // items, grid, variant, state, samples, mean/item, sd
  EXPECT_TRUE(has_row(r.output, {"2^10", "2^4", "wg=64", "racing", "2", "105", "ns", "7.07", "ns"})) << r.output;
  EXPECT_TRUE(has_row(r.output, {"2^10", "2^4", "wg=256,body=alt", "winner", "1", "80", "ns"})) << r.output;
  EXPECT_TRUE(has_row(r.output, {"2^10", "2^4", "wg=32", "rejected", "-", "-", "-"})) << r.output;
  EXPECT_NE(r.output.find("source sha256:aaaa"), std::string::npos) << r.output;
  // Readable: no line wider than a wide terminal.
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);) EXPECT_LE(l.size(), 160u) << l;
  const Result j = spool_cli(db() + " autotune show saxpy --json 2>/dev/null");
  ASSERT_EQ(j.rc, 0) << j.output;
  const auto doc = nlohmann::json::parse(j.output);
  ASSERT_EQ(doc["rows"].size(), 3u);
  for (const auto& row : doc["rows"]) {
    if (row["variant"] == "wg=64") {
      EXPECT_EQ(row["state"], "racing");
      EXPECT_EQ(row["count"], 2);
      EXPECT_DOUBLE_EQ(row["mean_ns"].get<double>(), 105);
    }
  }
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

  r = spool_cli("--db=" + quote(db_) + " autotune clear --all");
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

TEST_F(Cli, ReadCommandsFailOnACorruptStoreAndLeaveItUntouched) {
  const std::string bad = dir_.file("corrupt.sqlite");
  const std::string garbage(512, '\x7f');
  write_bytes(bad, garbage);
  for (const char* cmd : {" autotune list", " autotune show saxpy", " autotune export"}) {
    const Result r = spool_cli("--db " + quote(bad) + cmd);
    EXPECT_EQ(r.rc, 1) << cmd << ": " << r.output;
    EXPECT_NE(r.output.find("the store '" + bad + "' is unreadable"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("read commands leave it untouched"), std::string::npos) << r.output;
  }
  // Same bytes, same name, nothing next to it.
  EXPECT_EQ(read_bytes(bad), garbage);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    files += e.path().filename().string().rfind("corrupt.sqlite", 0) == 0;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(Cli, WritingCommandsMoveACorruptStoreAsideSayingWhere) {
  const std::string bad = dir_.file("corrupt.sqlite");
  const std::string garbage(512, '\x7f');
  write_bytes(bad, garbage);
  const Result r = spool_cli("--db " + quote(bad) + " autotune clear --all");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("moved aside to '" + bad + ".corrupt-"), std::string::npos) << r.output;
  bool kept = false;
  for (const auto& f : aside_files(dir_, "corrupt.sqlite")) kept = read_bytes(f.string()) == garbage;
  EXPECT_TRUE(kept);
}

TEST_F(Cli, ReadCommandsLeaveTheFileByteForByte) {
  const std::string before = read_bytes(db_);
  const auto mtime = std::filesystem::last_write_time(db_);
  EXPECT_EQ(spool_cli(db() + " autotune list").rc, 0);
  EXPECT_EQ(spool_cli(db() + " autotune show saxpy").rc, 0);
  EXPECT_EQ(spool_cli(db() + " autotune export").rc, 0);
  EXPECT_EQ(read_bytes(db_), before);
  EXPECT_EQ(std::filesystem::last_write_time(db_), mtime);
}

TEST_F(Cli, DoesNotCreateTheFileWhenListingAMissingStore) {
  const std::string missing = dir_.file("missing/store.sqlite");
  const Result r = spool_cli("--db " + quote(missing) + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("kernels: 0"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(missing));
}

// A device that is not present on any test machine and a kernel that is not
// built in: this machine's judgement (stale_reason) says nothing about their
// rows, so only the store's marks show.
DeviceKey absent_gpu() { return DeviceKey{"cuda", "GPU-spool-test-absent", "Test GPU", "1.0", "12.0"}; }
KernelKey tally(const std::string& hash) { return KernelKey{"tally", hash}; }

// Rows whose key differs from the one the latest racing process recorded
// (Store::record_current) are marked with the store's reason.
TEST_F(Cli, MarksStaleRowsWhenListing) {
  {
    auto s = Store::open(db_);
    s->add_observation(absent_gpu(), tally("sha256:aaaa"), kBucket, "wg=64", 100);
    s->add_observation(absent_gpu(), tally("sha256:aaaa"), kBucket, "wg=32", 120);
    s->set_winner(absent_gpu(), tally("sha256:aaaa"), kBucket, "wg=64");
    s->add_observation(absent_gpu(), tally("sha256:bbbb"), kBucket, "wg=64", 90);
    s->record_current(absent_gpu(), tally("sha256:bbbb"));  // what the latest run used
  }
  const std::string why = "source sha256:aaaa != sha256:bbbb (latest run)";
  Result r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  // kernel, source, variants, samples, winners, rejected, stale rows, invalid rows
  EXPECT_TRUE(has_row(r.output, {"tally", "sha256:aaaa", "2", "2", "1", "0", "3", "0"})) << r.output;
  EXPECT_TRUE(has_row(r.output, {"tally", "sha256:bbbb", "1", "1", "0", "0", "0", "0"})) << r.output;
  EXPECT_NE(r.output.find("  tally sha256:aaaa: STALE: " + why + "\n"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("tally sha256:bbbb: STALE"), std::string::npos) << r.output;

  r = spool_cli(db() + " autotune list --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.output;
  std::size_t seen = 0;
  const auto doc1 = nlohmann::json::parse(r.output);
  for (const auto& k : doc1["kernels"]) {
    if (k["kernel"] != "tally") continue;
    seen += 1;
    if (k["source_hash"] == "sha256:aaaa") {
      EXPECT_EQ(k["stale_rows"], 3);
      EXPECT_EQ(k["stale_because"], nlohmann::json::array({why}));
    } else {
      EXPECT_EQ(k["stale_rows"], 0) << k.dump();
    }
  }
  EXPECT_EQ(seen, 2u);

  r = spool_cli(db() + " autotune show tally");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("  source sha256:aaaa   STALE: " + why + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  source sha256:bbbb\n"), std::string::npos) << r.output;  // current: unmarked
  r = spool_cli(db() + " autotune show tally --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto doc2 = nlohmann::json::parse(r.output);
  for (const auto& row : doc2["rows"]) {
    if (row["source_hash"] == "sha256:aaaa") {
      EXPECT_EQ(row["stale"], why) << row.dump();
    } else {
      EXPECT_TRUE(row["stale"].is_null()) << row.dump();
    }
  }
}

// A row of another Spool version is stale by this machine's judgement and by
// the store's (the latest run recorded this version): one reason, not two.
TEST_F(Cli, NamesAReasonOnceWhenTheStoreAndThisMachineAgree) {
  {
    auto old = Store::open_as_version(db_, "0.0.9");
    old->add_observation(absent_gpu(), tally("sha256:aaaa"), kBucket, "wg=16", 90);
  }
  Store::open(db_)->record_current(absent_gpu(), tally("sha256:aaaa"));
  ASSERT_FALSE(Store::open(db_)->list_observations("tally").front().stale.empty());  // the store marks it too
  const std::string why = "spool 0.0.9 != " + std::string(spool_version());
  Result r = spool_cli(db() + " autotune show tally");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("  source sha256:aaaa   STALE: " + why + "\n"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("latest run"), std::string::npos) << r.output;
  r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("  tally sha256:aaaa: STALE: " + why + "\n"), std::string::npos) << r.output;
}

TEST_F(Cli, RefusesAnImportWithABadValueNamingRowAndFieldAndWritesNothing) {
  const std::string before = Store::open(db_)->export_json();
  const std::string json = dir_.file("bad.json");
  {
    auto other = Store::open(":memory:");
    LaunchProfileRecord p;
    p.launch_ns = 1000;
    other->save_profile(lavapipe("9.9"), p);
    other->add_observation(lavapipe("9.9"), saxpy(), kBucket, "wg=8", 5);
    std::string text = other->export_json();
    const auto at = text.find("\"launch_ns\": 1000.0");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 19, "\"launch_ns\": -1e12");
    write_bytes(json, text);
  }
  const Result r = spool_cli(db() + " autotune import " + quote(json));
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("launch_profiles[0]: field 'launch_ns' = -1e+12"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("rows from"), std::string::npos) << r.output;  // no "imported N rows from"
  auto s = Store::open(db_);
  EXPECT_FALSE(s->load_profile(lavapipe("9.9")).has_value());
  EXPECT_EQ(s->export_json(), before);  // not even the valid observation
}

void raw_sql(const std::string& db, const char* sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);
}

void expect_lines_shorter_than(const std::string& text, std::size_t n) {
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);) EXPECT_LT(l.size(), n) << l;
}

// A row written behind the store's back (raw SQL) with an absurd value is
// shown bounded and marked, never trusted.
TEST_F(Cli, MarksInvalidRowsAndPrintsThemBoundedWhenListing) {
  raw_sql(db_, "UPDATE launch_profiles SET persistent_setup_ns = 1e300");
  Result r = spool_cli(db() + " autotune list");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("1e+300 ns"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("INVALID (field 'persistent_setup_ns' = 1e+300"), std::string::npos) << r.output;
  expect_lines_shorter_than(r.output, 200);
  r = spool_cli(db() + " autotune list --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["profiles"].size(), 1u);
  EXPECT_DOUBLE_EQ(j["profiles"][0]["persistent_setup_ns"].get<double>(), 1e300);
  EXPECT_NE(j["profiles"][0]["invalid"].get<std::string>().find("field 'persistent_setup_ns' = 1e+300"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(j["kernels"][0]["invalid_rows"], 0);
}

TEST_F(Cli, MarksInvalidRowsAndPrintsThemBoundedWhenShowing) {
  raw_sql(db_, "UPDATE observations SET mean_ns = 1e300 WHERE variant = 'wg=64'");
  Result r = spool_cli(db() + " autotune show saxpy");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_TRUE(has_row(r.output, {"wg=64", "racing", "2", "1e+300", "ns"})) << r.output;
  EXPECT_NE(r.output.find("INVALID (field 'mean_ns' = 1e+300"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("INVALID", r.output.find("INVALID") + 1), std::string::npos) << r.output;  // one row
  expect_lines_shorter_than(r.output, 200);
  r = spool_cli(db() + " autotune show saxpy --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto doc3 = nlohmann::json::parse(r.output);
  for (const auto& row : doc3["rows"]) {
    EXPECT_EQ(row["invalid"].is_null(), row["variant"] != "wg=64") << row.dump();
  }
  r = spool_cli(db() + " autotune list --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["kernels"][0]["invalid_rows"], 1) << r.output;
  r = spool_cli(db() + " autotune list");
  EXPECT_NE(r.output.find("  saxpy sha256:aaaa: INVALID (field 'mean_ns' = 1e+300"), std::string::npos) << r.output;
}

// prune deletes, besides rows stale on this machine, rows the store marks
// stale (current_keys) and rows that break the store's limits.
TEST_F(Cli, PrunesRowsTheStoreMarksStaleAndInvalidRows) {
  {
    auto s = Store::open(db_);
    s->clear();  // the fixture's rows may be stale on this machine (lavapipe present), or not
    s->add_observation(absent_gpu(), tally("sha256:aaaa"), kBucket, "wg=64", 100);
    s->set_winner(absent_gpu(), tally("sha256:aaaa"), kBucket, "wg=64");
    s->add_observation(absent_gpu(), tally("sha256:bbbb"), kBucket, "wg=64", 90);
    s->add_observation(absent_gpu(), KernelKey{"sum", "sha256:cccc"}, kBucket, "wg=64", 5);
    s->record_current(absent_gpu(), tally("sha256:bbbb"));
  }
  raw_sql(db_, "UPDATE observations SET m2 = -1 WHERE kernel = 'sum'");
  Result r = spool_cli(db() + " autotune prune --dry-run");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("would prune 3 rows"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  2 x source sha256:aaaa != sha256:bbbb (latest run)\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  1 x INVALID (field 'm2' = -1"), std::string::npos) << r.output;
  EXPECT_EQ(Store::open(db_)->list_observations().size(), 3u);  // dry run: all kept
  r = spool_cli(db() + " autotune prune");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("pruned 3 rows"), std::string::npos) << r.output;
  auto s = Store::open(db_);
  ASSERT_EQ(s->list_observations().size(), 1u);
  EXPECT_EQ(s->list_observations().front().kernel.source_hash, "sha256:bbbb");
  EXPECT_TRUE(s->list_winners().empty());
}

// `list` only reads: a corrupt store is reported with SQLite's reason and
// left where it is (writing commands move it aside, as the runtime does).
TEST_F(Cli, FailsAndLeavesTheFileInPlaceWhenListingACorruptStore) {
  const std::string bad = dir_.file("corrupt.sqlite");
  const std::string garbage(512, '\x7f');
  write_bytes(bad, garbage);
  const Result r = spool_cli("--db " + quote(bad) + " autotune list");
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("file is not a database"), std::string::npos) << r.output;
  EXPECT_EQ(read_bytes(bad), garbage);
  EXPECT_FALSE(std::filesystem::exists(bad + "-wal"));
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
  for (const auto& f : aside_files(dir_, "corrupt.sqlite")) kept = read_bytes(f.string()) == garbage;
  EXPECT_TRUE(kept);
}

TEST_F(Cli, ExitsWithUsageErrorWhenArgumentsAreWrong) {
  for (const std::string args :
       {"", "frobnicate", "autotune", "autotune frob", "autotune list extra", "autotune show",
        "autotune show a b", "autotune export a b", "autotune import", "autotune list --db",
        "--bogus", "autotune clear"}) {
    const Result r = spool_cli(db() + " " + args);
    EXPECT_EQ(r.rc, 2) << "args: " << args << "\n" << r.output;
    EXPECT_NE(r.output.find("Run 'spool"), std::string::npos) << "args: " << args << "\n" << r.output;
    EXPECT_NE(r.output.find("--help' for usage"), std::string::npos) << "args: " << args << "\n"
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
  for (const char* sub : {"list", "show", "clear", "prune", "export", "import"}) {
    EXPECT_NE(r.output.find(std::string("  ") + sub + " "), std::string::npos) << sub << "\n" << r.output;
  }
  r = spool_cli("autotune show --help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.output.find("kernel name"), std::string::npos) << r.output;
  r = spool_cli("--version");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.output, "spool " + std::string(spool_version()) + "\n");
}

}  // namespace
