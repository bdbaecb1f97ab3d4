// Telemetry as written: every line is parsed as JSON and every documented
// field is checked for presence and type (docs/telemetry.md, schema 1).
#include "spool/telemetry.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_backend.hpp"
#include "spool/device.hpp"
#include "spool/runtime.hpp"

namespace {

using nlohmann::json;

enum class T { integer, unsigned_int, number, string, boolean, object };

struct Field {
  const char* name;
  T type;
};

// The schema-1 fields, in the order they are written.
const Field kFields[] = {
    {"schema_version", T::unsigned_int}, {"pid", T::integer},          {"run_id", T::string},
    {"batch", T::unsigned_int},          {"time_us", T::integer},      {"submit_ns", T::unsigned_int},
    {"start_ns", T::unsigned_int},       {"end_ns", T::unsigned_int},  {"device", T::string},
    {"backend", T::string},              {"kernel", T::string},        {"variant", T::string},
    {"items", T::unsigned_int},          {"max_grid", T::unsigned_int}, {"sequential", T::boolean},
    {"mode", T::string},                 {"forced", T::boolean},       {"exploration", T::boolean},
    {"predicted_ns", T::object},         {"measured_ns", T::number},   {"kernel_ns_per_item", T::number},
    {"first_use_ns", T::number},         {"parked_ns", T::number},     {"resident", T::boolean},     {"items_run", T::unsigned_int},
    {"items_failed", T::unsigned_int},   {"watchdog", T::boolean},     {"fallback_items", T::unsigned_int},
    {"race_role", T::string},            {"race_verdict", T::string},  {"race_baseline", T::string},
    {"race_speculative", T::string},     {"race_baseline_n", T::unsigned_int},
    {"race_speculative_n", T::unsigned_int}, {"race_baseline_mean_ns", T::number},
    {"race_speculative_mean_ns", T::number}, {"failure", T::string},
};

bool has_type(const json& v, T t) {
  switch (t) {
    case T::integer: return v.is_number_integer();
    case T::unsigned_int: return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
    case T::number: return v.is_number();
    case T::string: return v.is_string();
    case T::boolean: return v.is_boolean();
    case T::object: return v.is_object();
  }
  return false;
}

// Parses one line and checks every field; returns the object.
json check_line(const std::string& line) {
  json o;
  EXPECT_NO_THROW(o = json::parse(line)) << line;
  EXPECT_TRUE(o.is_object()) << line;
  if (!o.is_object()) return o;
  EXPECT_EQ(o.size(), std::size(kFields)) << "unexpected or missing fields: " << line;
  for (const Field& f : kFields) {
    EXPECT_TRUE(o.contains(f.name)) << "missing '" << f.name << "' in " << line;
    if (!o.contains(f.name)) continue;
    EXPECT_TRUE(has_type(o[f.name], f.type)) << "'" << f.name << "' has the wrong type in " << line;
  }
  if (!o.contains("submit_ns") || !o.contains("start_ns") || !o.contains("end_ns") || !o.contains("mode") ||
      !o.contains("run_id") || !o.contains("predicted_ns")) {
    return o;
  }
  EXPECT_EQ(o["schema_version"], spool::kTelemetrySchemaVersion);
  EXPECT_EQ(o["pid"], static_cast<std::int64_t>(::getpid()));
  EXPECT_EQ(o["run_id"].get<std::string>().size(), 16u);
  EXPECT_EQ(o["run_id"], std::string(spool::telemetry_run_id()));
  for (const char* m : {"launches", "recorded", "persistent"}) {
    EXPECT_TRUE(o["predicted_ns"].contains(m)) << line;
    if (!o["predicted_ns"].contains(m)) continue;
    const json& p = o["predicted_ns"][m];
    EXPECT_TRUE(p.is_null() || p.is_number()) << line;
  }
  const std::string mode = o["mode"];
  EXPECT_TRUE(mode == "launches" || mode == "recorded" || mode == "persistent") << line;
  EXPECT_LE(o["submit_ns"].get<std::uint64_t>(), o["start_ns"].get<std::uint64_t>()) << line;
  EXPECT_LE(o["start_ns"].get<std::uint64_t>(), o["end_ns"].get<std::uint64_t>()) << line;
  return o;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

std::string temp_file(const char* name) {
  const std::string p = testing::TempDir() + "/" + name + "-" + std::to_string(::getpid()) + ".jsonl";
  std::remove(p.c_str());
  return p;
}

struct MockDeviceWithTelemetry {
  spool::test::MockDevice* dev = nullptr;
  std::shared_ptr<spool::Device> device;
  spool::Buffer x;
  explicit MockDeviceWithTelemetry(const std::string& path) {
    std::vector<std::unique_ptr<spool::backend::Backend>> b;
    b.push_back(std::make_unique<spool::test::MockBackend>(&dev));
    spool::RuntimeOptions o;
    o.device_options.telemetry_path = path;
    o.device_options.calibrate = true;
    o.device_options.autotune = "off";
    spool::Runtime rt(std::move(b), o);
    device = rt.open_default();
    x = device->buffer(256);
  }
  spool::Verdict run(std::size_t n, std::optional<spool::LaunchMode> force = {}) {
    spool::Batch b(device->kernel("axpy"));
    for (std::size_t i = 0; i < n; ++i) b.add(64, {spool::arg(x), spool::arg(x), spool::arg(1.0f), spool::arg(64u)});
    spool::SubmitOptions so;
    so.force_mode = force;
    return device->run(std::move(b), so);
  }
};

TEST(TelemetryJson, EveryLineParsesWithEveryFieldOfTheRightType) {
  const std::string path = temp_file("telemetry-fields");
  {
    MockDeviceWithTelemetry m(path);
    m.dev->scripted_wall_ns[1] = 1;  // 1 ns: start = end - 1 is after submit
    m.run(0);
    m.run(1);
    m.run(100);
    m.run(7, spool::LaunchMode::persistent);
    m.run(7, spool::LaunchMode::recorded);
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 5u);
  std::uint64_t last_batch = 0;
  for (const auto& l : lines) {
    const json o = check_line(l);
    EXPECT_GT(o["batch"].get<std::uint64_t>(), last_batch);
    last_batch = o["batch"];
  }
  const json forced = json::parse(lines[4]);
  EXPECT_EQ(forced["mode"], "recorded");
  EXPECT_EQ(forced["forced"], true);
  EXPECT_EQ(forced["exploration"], false);
  EXPECT_DOUBLE_EQ(forced["measured_ns"].get<double>(), 1.0);
  // start = end - measured: execution began when the backend's clock started.
  EXPECT_EQ(forced["end_ns"].get<std::uint64_t>() - forced["start_ns"].get<std::uint64_t>(), 1u);
  std::remove(path.c_str());
}

TEST(TelemetryJson, StringsAndNumbersThatNeedCareStayValidJson) {
  spool::Verdict v;
  v.device = "quote \" backslash \\ newline \n tab \t nul-free \x01 end";
  v.kernel = std::string("bad utf8 \xff\xfe here");
  v.failure = "line1\nline2";
  v.measured_ns = std::numeric_limits<double>::quiet_NaN();
  v.kernel_ns_per_item = std::numeric_limits<double>::infinity();
  v.predicted_ns = {1.5, -1, 3e300};
  v.submit_ns = v.start_ns = v.end_ns = 42;
  const json o = json::parse(spool::to_json(v));
  EXPECT_EQ(o["device"], v.device);
  EXPECT_EQ(o["failure"], "line1\nline2");
  EXPECT_TRUE(o["measured_ns"].is_null());  // not finite: null, never an invalid token
  EXPECT_TRUE(o["kernel_ns_per_item"].is_null());
  EXPECT_TRUE(o["predicted_ns"]["recorded"].is_null());  // unavailable
  EXPECT_DOUBLE_EQ(o["predicted_ns"]["launches"].get<double>(), 1.5);
  EXPECT_NE(o["kernel"].get<std::string>().find("bad utf8"), std::string::npos);
}

TEST(TelemetryJson, LinesFromManyThreadsAndTwoSinksOnOneFileStayWhole) {
  const std::string path = temp_file("telemetry-concurrent");
  constexpr int kThreads = 4, kPerThread = 200;
  {
    auto a = std::make_shared<spool::JsonLinesSink>(path);
    auto b = std::make_shared<spool::JsonLinesSink>(path);  // as a second process would
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        spool::Verdict v;
        v.device = std::string(300, 'd');  // long lines: interleaving would show
        v.kernel = "k" + std::to_string(t);
        for (int i = 0; i < kPerThread; ++i) {
          v.batch_id = static_cast<std::uint64_t>(i);
          (t % 2 ? a : b)->on_verdict(v);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (const auto& l : lines) check_line(l);
  std::remove(path.c_str());
}

TEST(TelemetryJson, SinkOnAnUnwritablePathThrowsNamingIt) {
  try {
    spool::JsonLinesSink s("/nonexistent-dir-for-spool-test/t.jsonl");
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir-for-spool-test/t.jsonl"), std::string::npos);
  }
}

TEST(TelemetryJson, RunIdIsFixedForTheProcess) {
  EXPECT_EQ(spool::telemetry_run_id(), spool::telemetry_run_id());
  for (char c : spool::telemetry_run_id()) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c))) << c;
}

}  // namespace
