// summarize / trace / plot over events with known content: exact counts,
// percentiles and misprediction rules; a trace whose slices nest on every
// track; a gnuplot script (and, with gnuplot, a PNG).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "event_lines.hpp"
#include "telemetry_plot.hpp"
#include "telemetry_reader.hpp"
#include "telemetry_summary.hpp"
#include "telemetry_trace.hpp"

namespace {

using spool::LaunchMode;
using spool::cli::TelemetryEvent;
using spool::cli::TelemetryLog;

TelemetryEvent event(std::uint64_t batch, LaunchMode mode, std::uint32_t items, double measured,
                     bool forced = false) {
  spool::Verdict v = spool::test::sample_verdict(batch, mode, items, measured);
  v.forced = forced;
  return spool::cli::parse_event(spool::to_json(v));
}

TEST(TelemetrySummary, PercentilesAreNearestRank) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const auto p = spool::cli::percentiles(v);
  EXPECT_EQ(p.n, 100u);
  EXPECT_EQ(p.p10, 10);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p99, 99);
  std::vector<double> one{7};
  EXPECT_EQ(spool::cli::percentiles(one).p99, 7);
  std::vector<double> none;
  EXPECT_EQ(spool::cli::percentiles(none).n, 0u);
}

TEST(TelemetrySummary, CountsTimesErrorsAndFailuresPerKernelAndMode) {
  TelemetryLog log;
  // recorded (chosen): 4 batches of 16 items, 16 us each -> 1 us/item, predicted 15 us.
  for (int i = 0; i < 4; ++i) log.events.push_back(event(1 + i, LaunchMode::recorded, 16, 16'000));
  // launches (forced): 3 batches, 32 us each -> 2 us/item.
  for (int i = 0; i < 3; ++i) log.events.push_back(event(10 + i, LaunchMode::launches, 16, 32'000, true));
  // one failed persistent batch
  spool::Verdict bad = spool::test::sample_verdict(20, LaunchMode::persistent, 16, 50'000);
  bad.items_failed = 16;
  bad.items_run = 0;
  bad.watchdog_fired = true;
  bad.failure = "watchdog";
  log.events.push_back(spool::cli::parse_event(spool::to_json(bad)));
  log.lines = log.events.size();
  const auto s = spool::cli::summarize(log);
  ASSERT_EQ(s.groups.size(), 3u);
  std::map<LaunchMode, spool::cli::GroupSummary> by;
  for (const auto& g : s.groups) by[g.mode] = g;
  const auto& rec = by[LaunchMode::recorded];
  EXPECT_EQ(rec.batches, 4u);
  EXPECT_EQ(rec.items, 64u);
  EXPECT_EQ(rec.automatic, 4u);
  EXPECT_DOUBLE_EQ(rec.per_item_ns.p50, 1'000);
  EXPECT_DOUBLE_EQ(rec.queue_ns.p50, 500);
  EXPECT_NEAR(rec.prediction_error.p50, 16'000.0 / 15'000.0 - 1, 1e-12);
  const auto& lau = by[LaunchMode::launches];
  EXPECT_EQ(lau.forced, 3u);
  EXPECT_EQ(lau.automatic, 0u);
  EXPECT_DOUBLE_EQ(lau.per_item_ns.p90, 2'000);
  const auto& per = by[LaunchMode::persistent];
  EXPECT_EQ(per.failed_batches, 1u);
  EXPECT_EQ(per.failed_items, 16u);
  EXPECT_EQ(per.watchdog, 1u);
  // recorded was measured faster than launches: no misprediction.
  EXPECT_EQ(rec.mispredicted_by_measurement, 0u);
  EXPECT_EQ(rec.mispredicted_by_prediction, 0u);
  ASSERT_EQ(s.runs.size(), 1u);
  EXPECT_EQ(s.runs[0].batches, 8u);
}

TEST(TelemetrySummary, FlagsAutomaticChoicesThatMeasurementOrPredictionContradict) {
  TelemetryLog log;
  // The policy chose recorded (2 us/item) but forced launches batches of the
  // same shape took 1 us/item: every automatic recorded batch is mispredicted.
  for (int i = 0; i < 3; ++i) log.events.push_back(event(1 + i, LaunchMode::recorded, 16, 32'000));
  for (int i = 0; i < 3; ++i) log.events.push_back(event(10 + i, LaunchMode::launches, 16, 16'000, true));
  // A chosen batch whose own prediction favoured another mode.
  spool::Verdict odd = spool::test::sample_verdict(30, LaunchMode::persistent, 1024, 10'000);
  odd.predicted_ns = {5'000, 6'000, 9'000};
  log.events.push_back(spool::cli::parse_event(spool::to_json(odd)));
  // An exploring batch is never counted as a misprediction.
  spool::Verdict explore = spool::test::sample_verdict(31, LaunchMode::persistent, 1024, 10'000);
  explore.predicted_ns = {5'000, 6'000, 9'000};
  explore.exploration = true;
  log.events.push_back(spool::cli::parse_event(spool::to_json(explore)));
  const auto s = spool::cli::summarize(log);
  std::map<LaunchMode, spool::cli::GroupSummary> by;
  for (const auto& g : s.groups) by[g.mode] = g;
  EXPECT_EQ(by[LaunchMode::recorded].mispredicted_by_measurement, 3u);
  EXPECT_EQ(by[LaunchMode::launches].mispredicted_by_measurement, 0u);  // forced
  EXPECT_EQ(by[LaunchMode::persistent].mispredicted_by_prediction, 1u);
  EXPECT_EQ(by[LaunchMode::persistent].exploration, 1u);
  // Fewer than kMinSamples comparison batches: no claim.
  TelemetryLog few;
  few.events = {event(1, LaunchMode::recorded, 16, 32'000), event(2, LaunchMode::recorded, 16, 32'000),
                event(3, LaunchMode::recorded, 16, 32'000), event(4, LaunchMode::launches, 16, 1'000, true)};
  for (const auto& g : spool::cli::summarize(few).groups) EXPECT_EQ(g.mispredicted_by_measurement, 0u);
}

TEST(TelemetrySummary, JsonAndTextNameTheGroups) {
  TelemetryLog log;
  log.events = {event(1, LaunchMode::recorded, 16, 16'000)};
  const auto s = spool::cli::summarize(log);
  const auto j = nlohmann::json::parse(spool::cli::summary_json(s, "f.jsonl"));
  EXPECT_EQ(j["events"], 1);
  EXPECT_EQ(j["groups"][0]["kernel"], "saxpy");
  EXPECT_EQ(j["groups"][0]["mode"], "recorded");
  EXPECT_DOUBLE_EQ(j["groups"][0]["per_item_ns"]["p50"].get<double>(), 1'000);
  std::ostringstream text;
  spool::cli::print_summary(text, s, "f.jsonl");
  EXPECT_NE(text.str().find("device test device"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("saxpy"), std::string::npos);
}

TEST(TelemetryTrace, SlicesNestOnEveryTrackAndOverlapsGetTheirOwnLane) {
  std::vector<TelemetryEvent> ev;
  // Two overlapping persistent batches (submitted 1 us apart, 100 us long),
  // then one later; and a launches batch.
  for (std::uint64_t i = 0; i < 3; ++i) {
    spool::Verdict v = spool::test::sample_verdict(i + 1, LaunchMode::persistent, 8, 100'000);
    v.submit_ns = 1'000'000 + (i == 2 ? 500'000 : i * 1'000);
    v.start_ns = v.submit_ns + 2'000;
    v.end_ns = v.start_ns + 100'000;
    ev.push_back(spool::cli::parse_event(spool::to_json(v)));
  }
  ev.push_back(event(9, LaunchMode::launches, 4, 5'000, true));
  const auto doc = nlohmann::json::parse(spool::cli::chrome_trace(ev));
  ASSERT_TRUE(doc["traceEvents"].is_array());
  struct Slice {
    double ts, end;
  };
  std::map<std::pair<int, int>, std::vector<Slice>> tracks;
  std::map<std::pair<int, int>, std::string> names;
  int batches = 0, waits = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M") {
      if (e["name"] == "thread_name") names[{e["pid"], e["tid"]}] = e["args"]["name"];
      continue;
    }
    ASSERT_EQ(e["ph"], "X");
    const double ts = e["ts"], dur = e["dur"];
    ASSERT_GE(dur, 0);
    tracks[{e["pid"], e["tid"]}].push_back({ts, ts + dur});
    batches += e["cat"] == "batch";
    waits += e["name"] == "queue wait";
    if (e["cat"] == "batch") {
      EXPECT_TRUE(e["args"].contains("measured_us"));
      EXPECT_TRUE(e["args"].contains("predicted_us.launches"));
    }
  }
  EXPECT_EQ(batches, 4);
  EXPECT_EQ(waits, 4);
  // Any two slices on one track are disjoint or one contains the other.
  for (const auto& [k, slices] : tracks) {
    for (std::size_t a = 0; a < slices.size(); ++a) {
      for (std::size_t b = a + 1; b < slices.size(); ++b) {
        const auto& x = slices[a];
        const auto& y = slices[b];
        const bool disjoint = x.end <= y.ts || y.end <= x.ts;
        const bool nested = (x.ts <= y.ts && y.end <= x.end) || (y.ts <= x.ts && x.end <= y.end);
        EXPECT_TRUE(disjoint || nested) << "improper overlap on tid " << k.second;
      }
    }
  }
  int persistent_lanes = 0;
  for (const auto& [k, name] : names) persistent_lanes += name.rfind("persistent", 0) == 0;
  EXPECT_EQ(persistent_lanes, 2);  // the two overlapping batches; the third reuses lane 1
}

TEST(TelemetryPlot, ScriptHasBothPanelsAndTheDataInline) {
  std::vector<TelemetryEvent> ev{event(1, LaunchMode::recorded, 16, 16'000),
                                 event(2, LaunchMode::launches, 64, 128'000, true)};
  const std::string s = spool::cli::gnuplot_script(ev, "/tmp/o.png", "title's");
  EXPECT_NE(s.find("set terminal pngcairo"), std::string::npos);
  EXPECT_NE(s.find("set output '/tmp/o.png'"), std::string::npos);
  EXPECT_NE(s.find("title 'title''s'"), std::string::npos);  // quote doubled
  EXPECT_NE(s.find("$mode1 << EOD\n16 1\nEOD"), std::string::npos) << s;   // 16 items, 1 us/item
  EXPECT_NE(s.find("$mode0 << EOD\n64 2\nEOD"), std::string::npos) << s;   // 64 items, 2 us/item
  EXPECT_NE(s.find("$chosen << EOD\n16 1\nEOD"), std::string::npos) << s;  // only the automatic one
  EXPECT_NE(s.find("automatic choice"), std::string::npos);
  EXPECT_NE(s.find("measured = predicted"), std::string::npos);
  EXPECT_NE(spool::cli::gnuplot_script(ev, "o.svg", "t").find("set terminal svg"), std::string::npos);
  EXPECT_THROW(spool::cli::gnuplot_script(ev, "o.jpg", "t"), std::invalid_argument);
  EXPECT_THROW(spool::cli::gnuplot_script({}, "o.png", "t"), std::invalid_argument);
}

TEST(TelemetryPlot, GnuplotWritesAPng) {
  if (std::system("gnuplot --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "gnuplot is not installed (Debian gnuplot-nox; scripts/deps.sh installs it)";
  }
  const std::string out = testing::TempDir() + "/spool-plot-test-" + std::to_string(::getpid()) + ".png";
  std::remove(out.c_str());
  std::vector<TelemetryEvent> ev;
  for (std::uint32_t n : {1u, 10u, 100u}) {
    ev.push_back(event(n, LaunchMode::launches, n, 30'000.0 * n, true));
    ev.push_back(event(n + 1, LaunchMode::recorded, n, 40'000 + 5'000.0 * n));
  }
  spool::cli::run_gnuplot(spool::cli::gnuplot_script(ev, out, "test"));
  std::ifstream f(out, std::ios::binary);
  char sig[8] = {};
  f.read(sig, 8);
  EXPECT_EQ(std::string(sig, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(std::filesystem::file_size(out), 5'000u);
  std::remove(out.c_str());
}

TEST(TelemetryPlot, GnuplotErrorsAreReported) {
  if (std::system("gnuplot --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot is not installed";
  try {
    spool::cli::run_gnuplot("this is not gnuplot\n");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot failed"), std::string::npos) << e.what();
  }
}

}  // namespace
