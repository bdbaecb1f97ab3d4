// JSON export/import: all rows of all tables, all-or-nothing import.
#include <gtest/gtest.h>

#include <string>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;

constexpr ShapeBucket kBucket{10, 4};

// 1 profile, 3 observation rows, 1 winner, 1 rejection = 6 rows; awkward doubles and strings.
void fill(Store& s) {
  LaunchProfileRecord p;
  p.launch_ns = 0.1 + 0.2;
  p.record_setup_ns = 1e-300;
  p.replay_ns = 123456789.123456789;
  p.persistent_setup_ns = 2e5;
  p.queue_item_ns = 700;
  p.samples = 33;
  p.measured_at_unix = 1'700'000'123;
  s.save_profile(lavapipe(), p);
  s.add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 1.0 / 3.0);
  s.add_observation(lavapipe(), saxpy(), kBucket, "wg=64", 2.0 / 3.0);
  s.add_observation(lavapipe(), saxpy(), kBucket, "wg=256,body=alt", 0.5);
  s.add_observation(lavapipe(), KernelKey{"naïve \"quoted\"\n", "h"}, {}, "wg=1", 7);
  s.set_winner(lavapipe(), saxpy(), kBucket, "wg=256,body=alt");
  s.reject(lavapipe(), saxpy(), kBucket, "wg=32");
}

TEST(Json, RestoresEveryRowExactlyWhenExportedClearedAndImported) {
  auto s = Store::open(":memory:");
  fill(*s);
  const std::string before = s->export_json();
  s->clear();
  EXPECT_NE(s->export_json(), before);
  EXPECT_EQ(s->import_json(before), 6u);
  EXPECT_EQ(s->export_json(), before);
  const auto o = s->observation(lavapipe(), saxpy(), kBucket, "wg=64");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->count, 2u);
  EXPECT_EQ(s->load_profile(lavapipe())->launch_ns, 0.1 + 0.2);
  EXPECT_EQ(s->load_profile(lavapipe())->record_setup_ns, 1e-300);
  EXPECT_EQ(s->winner(lavapipe(), saxpy(), kBucket), "wg=256,body=alt");
  EXPECT_TRUE(s->is_rejected(lavapipe(), saxpy(), kBucket, "wg=32"));
}

TEST(Json, MovesResultsBetweenStoresWhenImportedIntoAnotherFile) {
  TempDir dir;
  std::string exported;
  {
    auto a = Store::open(dir.file("machine-a.sqlite"));
    fill(*a);
    exported = a->export_json();
  }
  {
    auto b = Store::open(dir.file("machine-b.sqlite"));
    EXPECT_EQ(b->import_json(exported), 6u);
  }
  auto b = Store::open(dir.file("machine-b.sqlite"));
  EXPECT_EQ(b->winner(lavapipe(), saxpy(), kBucket), "wg=256,body=alt");
  EXPECT_EQ(b->export_json(), exported);
}

TEST(Json, ReplacesRowsWithTheSameKeyWhenImportedTwice) {
  auto s = Store::open(":memory:");
  fill(*s);
  const std::string doc = s->export_json();
  EXPECT_EQ(s->import_json(doc), 6u);
  EXPECT_EQ(s->export_json(), doc);
  EXPECT_EQ(s->observation(lavapipe(), saxpy(), kBucket, "wg=64")->count, 2u);
}

void expect_rejected_and_unchanged(Store& s, const std::string& doc, const std::string& needle) {
  const std::string before = s.export_json();
  try {
    s.import_json(doc);
    FAIL() << "expected Error for: " << doc.substr(0, 200);
  } catch (const Error& e) {
    EXPECT_EQ(e.call(), "import_json");
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  EXPECT_EQ(s.export_json(), before);
}

TEST(Json, ThrowsAndLeavesStoreUnchangedWhenJsonIsMalformed) {
  auto s = Store::open(":memory:");
  fill(*s);
  expect_rejected_and_unchanged(*s, "{\"format\": \"spool-autotune\", ", "malformed JSON");
  expect_rejected_and_unchanged(*s, "", "malformed JSON");
  expect_rejected_and_unchanged(*s, "[1, 2, 3]", "not a Spool autotune export");
  expect_rejected_and_unchanged(*s, "{\"format\": \"something-else\"}", "not a Spool autotune export");
  expect_rejected_and_unchanged(*s, "{\"format\": \"spool-autotune\", \"format_version\": 7}",
                                "format_version");
}

TEST(Json, WritesNothingWhenALaterRowIsMalformed) {
  auto source = Store::open(":memory:");
  fill(*source);
  std::string doc = source->export_json();
  // Break the last rejection row: every earlier row is valid, none may be written.
  const auto at = doc.find("\"rejected_at_unix\"");
  ASSERT_NE(at, std::string::npos);
  doc.replace(at, 18, "\"rejected_at_typo\"");
  auto s = Store::open(":memory:");
  expect_rejected_and_unchanged(*s, doc, "rejections[0]: field 'rejected_at_unix' is missing");
  EXPECT_TRUE(s->list_profiles().empty());
  EXPECT_TRUE(s->list_observations().empty());
}

TEST(Json, ThrowsWhenAFieldHasTheWrongType) {
  auto s = Store::open(":memory:");
  const std::string head = R"({"format": "spool-autotune", "format_version": 1, "observations": [{
    "backend": "vulkan", "uuid": "u", "device_name": "d", "driver_version": "1",
    "api_version": "1", "spool_version": "0.1.0", "kernel": "k", "source_hash": "h",
    "variant": "wg=64", "mean_ns": 1.0, "m2": 0.0, "updated_at_unix": 0, )";
  expect_rejected_and_unchanged(*s, head + R"("log2_items": 64, "log2_grid": 0, "count": 1}]})",
                                "field 'log2_items' must be an integer in [0, 63]");
  expect_rejected_and_unchanged(*s, head + R"("log2_items": 1, "log2_grid": 0, "count": -1}]})",
                                "field 'count' must be an integer");
  expect_rejected_and_unchanged(*s, head + R"("log2_items": 1, "log2_grid": "0", "count": 1}]})",
                                "field 'log2_grid'");
  expect_rejected_and_unchanged(
      *s, R"({"format": "spool-autotune", "format_version": 1, "winners": {}})",
      "'winners' must be an array");
  // The same row, well-formed, imports.
  EXPECT_EQ(s->import_json(head + R"("log2_items": 1, "log2_grid": 0, "count": 1}]})"), 1u);
}

// Found by fuzz_autotune_import: a "format" that is not a string escaped as a
// JSON library exception instead of a spool::Error.
TEST(Json, RefusesANonStringFormatWithAStoreError) {
  auto s = Store::open(":memory:");
  EXPECT_THROW(s->import_json(R"({"format":22221111111111111111.111112 })"), spool::autotune::Error);
  EXPECT_THROW(s->import_json(R"({"format": ["spool-autotune"]})"), spool::autotune::Error);
}

}  // namespace
