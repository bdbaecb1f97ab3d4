// `spool devices | calibrate | run` on the default device (lavapipe in CI):
// what they print, what they store, and that a smoke batch of every built-in
// kernel in every mode matches the CPU.
#include "cli.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_cli.hpp"
#include "scoped_env.hpp"
#include "smoke.hpp"
#include "spool/autotune/store.hpp"
#include "spool/spool.hpp"
#include "telemetry_reader.hpp"

namespace {

bool have_device() {
  static const bool yes = [] {
    spool::RuntimeOptions o;
    o.device_options.calibrate = false;
    o.device_options.autotune = "off";
    return !spool::make_runtime(o).devices().empty();
  }();
  return yes;
}

#define REQUIRE_DEVICE() \
  if (!have_device()) GTEST_SKIP() << "no device (install mesa-vulkan-drivers for lavapipe)"

// A private store and telemetry directory; SPOOL_* that would change what the
// commands do are unset for the test.
class CliDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("spool-cli-dev-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (const char* v : {"SPOOL_DEVICE", "SPOOL_MODE", "SPOOL_TELEMETRY", "SPOOL_CALIBRATE", "SPOOL_AUTOTUNE",
                          "SPOOL_AUTOTUNE_DB", "SPOOL_AUTOTUNE_WG"}) {
      env_.unset(v);
    }
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }
  std::string db() const { return path("store.sqlite"); }

  std::filesystem::path dir_;
  spool::test::ScopedEnv env_;
};

TEST_F(CliDevice, DevicesListsEveryDeviceWithItsModes) {
  REQUIRE_DEVICE();
  const Result r = spool_cli({"devices"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("name"), std::string::npos);
  EXPECT_NE(r.out.find("launches"), std::string::npos) << r.out;
  const Result j = spool_cli({"devices", "--json"});
  ASSERT_EQ(j.rc, 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  ASSERT_FALSE(doc["devices"].empty());
  for (const auto& d : doc["devices"]) {
    for (const char* k : {"name", "backend", "type", "driver", "api", "uuid"}) EXPECT_TRUE(d[k].is_string()) << k;
    for (const char* m : {"launches", "recorded", "persistent"}) {
      const auto& mode = d["modes"][m];
      EXPECT_TRUE(mode["available"].is_boolean());
      if (!mode["available"].get<bool>()) {
        EXPECT_TRUE(mode["reason"].is_string()) << "no reason for " << m;
      }
    }
  }
  EXPECT_TRUE(doc["backends_without_devices"].is_array());
  EXPECT_FALSE(std::filesystem::exists(db()));  // a read command: no store
}

TEST_F(CliDevice, CalibrateStoresTheProfileThatTheNextDeviceOpenLoads) {
  REQUIRE_DEVICE();
  const Result r = spool_cli({"--db", db(), "calibrate", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("calibrating device 0"), std::string::npos) << r.err;  // progress on stderr
  const auto doc = nlohmann::json::parse(r.out);
  const double launch_ns = doc["profile"]["launch_ns"];
  EXPECT_GT(launch_ns, 0);
  EXPECT_EQ(doc["stored_in"], db());

  // A device opened with SPOOL_CALIBRATE=auto finds that profile: it uses
  // it, or (when its quick check disagrees, as it may on a loaded machine)
  // says so and measures again. Either way the lookup found the row.
  spool::RuntimeOptions o;
  o.device_options.autotune = "off";
  o.device_options.autotune_db = db();
  o.device_options.telemetry_path = std::string();
  auto rt = spool::make_runtime(o);
  auto dev = rt.open_default();
  const auto p = dev->profile();
  if (p.source == "store") {
    EXPECT_DOUBLE_EQ(p.launch_ns, launch_ns);
  } else {
    EXPECT_NE(p.validation.find("stored profile disagreed with a quick check"), std::string::npos)
        << "source " << p.source << ", validation '" << p.validation << "': the stored profile was not found";
  }

  const Result text = spool_cli({"--db", db(), "calibrate", "--no-store"});
  EXPECT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("L  launch"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("not stored (--no-store)"), std::string::npos);
}

TEST_F(CliDevice, CalibrateOnAnUnknownDeviceFailsNamingTheDevices) {
  REQUIRE_DEVICE();
  const Result r = spool_cli({"--db", db(), "calibrate", "--device", "no-such-gpu"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("no device matches 'no-such-gpu'"), std::string::npos) << r.err;
  const Result idx = spool_cli({"--db", db(), "calibrate", "--device", "99"});
  EXPECT_EQ(idx.rc, 1);
  EXPECT_NE(idx.err.find("device index 99 out of range"), std::string::npos) << idx.err;
}

TEST_F(CliDevice, RunEveryBuiltinKernelInEveryModeMatchesTheCpu) {
  REQUIRE_DEVICE();
  const std::string tel = path("t.jsonl");
  int runs = 0;
  for (const auto& k : spool::cli::smoke_kernels()) {
    for (const char* mode : {"auto", "launches", "recorded", "persistent"}) {
      const Result r = spool_cli({"--db", db(), "run", k, "--items", "9", "--grid", "33", "--mode", mode,
                                  "--telemetry", tel});
      EXPECT_EQ(r.rc, 0) << k << " " << mode << "\n" << r.out << r.err;
      EXPECT_NE(r.out.find("every value matches the CPU"), std::string::npos) << r.out;
      if (std::string(mode) != "auto") {
        EXPECT_NE(r.out.find(std::string(mode) + " (forced)"), std::string::npos) << r.out;
      }
      ++runs;
    }
  }
  // Each run appended one event that the reader accepts.
  const auto log = spool::cli::read_telemetry_file(tel);
  EXPECT_EQ(log.events.size(), static_cast<std::size_t>(runs));
}

TEST_F(CliDevice, RunJsonCarriesTheVerdictAndTheCheck) {
  REQUIRE_DEVICE();
  const Result r = spool_cli({"--db", db(), "run", "tally", "-n", "100", "-g", "64", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["check"], "ok");
  EXPECT_EQ(doc["verdict"]["kernel"], "tally");
  EXPECT_EQ(doc["verdict"]["items"], 100);
  EXPECT_EQ(doc["verdict"]["items_run"], 100);
  EXPECT_NO_THROW(spool::cli::parse_event(doc["verdict"].dump()));
}

TEST_F(CliDevice, RunRefusesUnknownKernelsAndOversizedBatches) {
  REQUIRE_DEVICE();
  const Result r = spool_cli({"--db", db(), "run", "nosuch"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unknown kernel 'nosuch' (built-in kernels of"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("saxpy"), std::string::npos);
  const Result big = spool_cli({"--db", db(), "run", "tally", "--items", "1000000", "--grid", "65536"});
  EXPECT_EQ(big.rc, 2);
  EXPECT_NE(big.err.find("invocations; at most"), std::string::npos) << big.err;
}

TEST_F(CliDevice, ABadEnvironmentValueStopsTheCommandWithItsName) {
  REQUIRE_DEVICE();
  env_.set("SPOOL_QUEUE_SLOTS", "1");
  const Result r = spool_cli({"devices"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("SPOOL_QUEUE_SLOTS='1' is out of range"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(".cpp:"), std::string::npos) << "source locations are for programmers: " << r.err;
}

}  // namespace
