// `spool` through run_cli(): help at every level, exit codes and messages for
// wrong arguments, options, and the telemetry commands on good and malformed
// files. (Commands that open a device: cli_device_test.cpp.)
#include "cli.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "event_lines.hpp"
#include "run_cli.hpp"
#include "scoped_env.hpp"
#include "spool/options.hpp"

namespace {

// A private directory for files, removed at the end of the test.
class Files {
 public:
  Files() {
    dir_ = std::filesystem::temp_directory_path() /
           ("spool-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
  }
  ~Files() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  static std::string read(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

std::string good_telemetry(int batches) {
  std::string s;
  for (int i = 1; i <= batches; ++i) {
    spool::Verdict v = spool::test::sample_verdict(static_cast<std::uint64_t>(i),
                                                   static_cast<spool::LaunchMode>(i % 3), 8u * i, 10'000.0 * i);
    s += spool::to_json(v) + "\n";
  }
  return s;
}

TEST(Cli, HelpAtEveryLevelExitsZero) {
  const std::vector<std::vector<std::string>> paths = {
      {}, {"devices"}, {"calibrate"}, {"run"}, {"options"}, {"telemetry"}, {"telemetry", "summarize"},
      {"telemetry", "trace"}, {"telemetry", "plot"}, {"autotune"}, {"autotune", "list"}, {"autotune", "show"},
      {"autotune", "clear"}, {"autotune", "prune"}, {"autotune", "export"}, {"autotune", "import"}};
  for (auto args : paths) {
    const std::string name = args.empty() ? "spool" : args.back();
    args.push_back("--help");
    const Result r = spool_cli(args);
    EXPECT_EQ(r.rc, 0) << name << r.err;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << name << ": " << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
  // Sub-command help is the sub-command's own, not the generic one.
  const Result r = spool_cli({"autotune", "list", "--help"});
  EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Subcommands:"), std::string::npos) << r.out;
}

TEST(Cli, VersionPrintsTheVersion) {
  const Result r = spool_cli({"--version"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("spool ", 0), 0u) << r.out;
}

TEST(Cli, WrongArgumentsExitTwoWithAPointerToHelp) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"--bogus"},
      {"devices", "extra"},
      {"devices", "--bogus"},
      {"calibrate", "--device"},
      {"run"},
      {"run", "tally", "--items", "0"},
      {"run", "tally", "--items", "-5"},
      {"run", "tally", "--items", "ten"},
      {"run", "tally", "--grid", "65537"},
      {"run", "tally", "--mode", "fastest"},
      {"run", "tally", "extra"},
      {"options", "extra"},
      {"telemetry"},
      {"telemetry", "summarize"},
      {"telemetry", "frob", "x"},
      {"telemetry", "trace", "f.jsonl"},
      {"telemetry", "plot", "f.jsonl"},
      {"telemetry", "summarize", "a", "b"},
      {"autotune"},
      {"autotune", "frob"},
      {"autotune", "list", "extra"},
      {"autotune", "show"},
      {"autotune", "show", "a", "b"},
      {"autotune", "show", ""},
      {"autotune", "export", "a", "b"},
      {"autotune", "import"},
      {"autotune", "list", "--db"},
      {"autotune", "prune", "--older-than", "0"},
      {"--db", "", "autotune", "list"},
  };
  for (const auto& args : bad) {
    std::string shown;
    for (const auto& a : args) shown += " '" + a + "'";
    const Result r = spool_cli(args);
    EXPECT_EQ(r.rc, 2) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find("Run 'spool"), std::string::npos) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find("--help' for usage."), std::string::npos) << shown << "\n" << r.err;
  }
}

TEST(Cli, ClearWithoutAScopeIsAUsageErrorAndTouchesNothing) {
  Files f;
  const std::string db = f.path("store.sqlite");
  const Result r = spool_cli({"--db", db, "autotune", "clear"});
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("clear needs a scope"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_EQ(spool_cli({"--db", db, "autotune", "clear", "--all", "--kernel", "k"}).rc, 2);
}

struct CleanOptions : spool::test::ScopedEnv {
  CleanOptions() {
    for (const auto& o : spool::options::table()) unset(std::string(o.name));
  }
};

TEST(Cli, OptionsListsEveryVariableWithDefaultAndMeaning) {
  CleanOptions clean;
  const Result r = spool_cli({"options"});
  EXPECT_EQ(r.rc, 0) << r.err;
  for (const auto& o : spool::options::table()) {
    EXPECT_NE(r.out.find(std::string(o.name) + "\n    " + std::string(o.help)), std::string::npos) << o.name;
  }
  const Result j = spool_cli({"options", "--json"});
  ASSERT_EQ(j.rc, 0);
  const auto doc = nlohmann::json::parse(j.out);
  ASSERT_EQ(doc.size(), spool::options::table().size());
  EXPECT_EQ(doc[0]["name"], "SPOOL_DEVICE");
  for (const auto& o : doc) {
    EXPECT_TRUE(o["value"].is_null());
    EXPECT_TRUE(o["valid"].get<bool>());
    EXPECT_TRUE(o["default"].is_string());
  }
}

TEST(Cli, OptionsNamesAnInvalidValueAndFails) {
  CleanOptions clean;
  clean.set("SPOOL_QUEUE_SLOTS", "0");
  clean.set("SPOOL_PARK_US", "5000");
  const Result r = spool_cli({"options"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("now: 0   INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error: SPOOL_QUEUE_SLOTS='0' is out of range; accepted: a power of two in 2..1048576"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("now: 5000\n"), std::string::npos) << r.out;
  const auto doc = nlohmann::json::parse(spool_cli({"options", "--json"}).out);
  for (const auto& o : doc) {
    if (o["name"] == "SPOOL_QUEUE_SLOTS") {
      EXPECT_FALSE(o["valid"].get<bool>());
      EXPECT_EQ(o["value"], "0");
    }
  }
}

TEST(Cli, SummarizePrintsTablesAndJson) {
  Files f;
  const std::string file = f.write("t.jsonl", good_telemetry(9));
  const Result r = spool_cli({"telemetry", "summarize", file});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(": 9 events from 1 run"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("device test device"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mispredicted"), std::string::npos) << r.out;
  const Result j = spool_cli({"telemetry", "summarize", "--json", file});
  ASSERT_EQ(j.rc, 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["events"], 9);
  EXPECT_EQ(doc["groups"].size(), 3u);
}

TEST(Cli, MalformedTelemetryFailsNamingTheLine) {
  Files f;
  std::string text = good_telemetry(3);
  text += "{\"schema_version\":1,\"pid\":1}\n";  // line 4: fields missing
  text += good_telemetry(1);
  const std::string file = f.write("bad.jsonl", text);
  for (const char* cmd : {"summarize", "trace", "plot"}) {
    std::vector<std::string> args{"telemetry", cmd, file};
    if (std::string(cmd) != "summarize") args.insert(args.end(), {"-o", f.path(std::string("out.") + (cmd[0] == 't' ? "json" : "png"))});
    const Result r = spool_cli(args);
    EXPECT_EQ(r.rc, 1) << cmd;
    EXPECT_NE(r.err.find(file + ":4: missing field 'run_id'"), std::string::npos) << cmd << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(f.path("out.json")));  // nothing written on failure
  const Result skip = spool_cli({"telemetry", "summarize", "--skip-invalid", file});
  EXPECT_EQ(skip.rc, 0) << skip.err;
  EXPECT_NE(skip.err.find("skipped " + file + ":4: missing field 'run_id'"), std::string::npos) << skip.err;
  EXPECT_NE(skip.out.find("4 events (1 invalid lines skipped)"), std::string::npos) << skip.out;
}

TEST(Cli, BinaryGarbageAndMissingFilesAreClearErrors) {
  Files f;
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 256);
  const std::string file = f.write("garbage.bin", garbage);
  const Result r = spool_cli({"telemetry", "summarize", file});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(file + ":1: "), std::string::npos) << r.err;
  const Result m = spool_cli({"telemetry", "summarize", f.path("missing.jsonl")});
  EXPECT_EQ(m.rc, 1);
  EXPECT_NE(m.err.find("cannot read telemetry file '" + f.path("missing.jsonl") + "'"), std::string::npos) << m.err;
  const Result empty = spool_cli({"telemetry", "summarize", f.write("empty.jsonl", "")});
  EXPECT_EQ(empty.rc, 0);
  EXPECT_NE(empty.out.find("0 events"), std::string::npos);
}

TEST(Cli, TraceWritesChromeTraceJson) {
  Files f;
  const std::string file = f.write("t.jsonl", good_telemetry(6));
  const std::string out = f.path("trace.json");
  const Result r = spool_cli({"telemetry", "trace", file, "-o", out});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("ui.perfetto.dev"), std::string::npos);
  const auto doc = nlohmann::json::parse(Files::read(out));
  int slices = 0;
  for (const auto& e : doc["traceEvents"]) slices += e["ph"] == "X" && e["cat"] == "batch";
  EXPECT_EQ(slices, 6);
  const Result unwritable = spool_cli({"telemetry", "trace", file, "-o", "/nonexistent-dir/t.json"});
  EXPECT_EQ(unwritable.rc, 1);
  EXPECT_NE(unwritable.err.find("cannot write '/nonexistent-dir/t.json'"), std::string::npos) << unwritable.err;
}

TEST(Cli, PlotChecksTheOutputNameAndCanWriteTheScript) {
  Files f;
  const std::string file = f.write("t.jsonl", good_telemetry(6));
  const Result jpg = spool_cli({"telemetry", "plot", file, "-o", f.path("p.jpg")});
  EXPECT_EQ(jpg.rc, 1);
  EXPECT_NE(jpg.err.find("must end in .png or .svg"), std::string::npos) << jpg.err;
  const Result s = spool_cli({"telemetry", "plot", file, "-o", f.path("p.svg"), "--script", f.path("p.gp")});
  EXPECT_EQ(s.rc, 0) << s.err;
  EXPECT_NE(Files::read(f.path("p.gp")).find("set terminal svg"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(f.path("p.svg")));  // only the script
  const Result none = spool_cli({"telemetry", "plot", f.write("e.jsonl", "\n"), "-o", f.path("e.png")});
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("nothing to plot"), std::string::npos) << none.err;
}

}  // namespace
