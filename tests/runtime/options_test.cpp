// The SPOOL_* options table: every bad value of every option is a clear
// spool::Error naming the variable, the value and what is accepted; good
// values parse to what they mean; the environment is read through the table.
#include "spool/options.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "mock_backend.hpp"
#include "scoped_env.hpp"
#include "spool/error.hpp"
#include "spool/runtime.hpp"

namespace {

namespace opt = spool::options;
using spool::test::ScopedEnv;

// Every SPOOL_* variable unset for the scope.
struct CleanEnv : ScopedEnv {
  CleanEnv() {
    for (const opt::Option& o : opt::table()) unset(std::string(o.name));
  }
};

std::string rejection(std::string_view name, std::string_view value) {
  opt::Settings s;
  try {
    opt::apply(s, name, value);
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    return e.what();
  }
  return {};
}

struct Bad {
  const char* name;
  std::vector<const char*> values;
};

// For each option, values that must be refused.
const std::vector<Bad> kBad = {
    {"SPOOL_DEVICE", {"99999999999999999999999", "65536"}},
    {"SPOOL_MODE", {"fast", "Launches", "launches ", "2"}},
    {"SPOOL_CALIBRATE", {"yes", "2", "AUTO", "-1"}},
    {"SPOOL_LOG", {"verbose", "WARN", "3", "warning"}},
    {"SPOOL_QUEUE_SLOTS", {"0", "1", "3000000000", "1000", "2097152", "-16", "16k", " 16", "0x10", "18446744073709551617"}},
    {"SPOOL_PERSISTENT_GROUPS", {"65536", "-1", "many", "1.5"}},
    {"SPOOL_PERSISTENT_WG", {"1025", "4294967296", "-8", "8,16"}},
    {"SPOOL_PARK_US", {"60000001", "4294967296", "-1", "1e3"}},
    {"SPOOL_WATCHDOG_MS", {"0", "9", "600001", "-5", "off"}},
    {"SPOOL_STARTUP_MS", {"0", "3600001", "30s", "-1"}},
    {"SPOOL_GRACE_MS", {"0", "600001", "2e3"}},
    {"SPOOL_AUTOTUNE", {"on", "1", "Race", "frozen,race"}},
    {"SPOOL_VALIDATE", {"2", "yes", "true", "ON", " 1"}},
    {"SPOOL_AUTOTUNE_WG", {"64,banana", "0", "1025", "64,,32", "64,64", ",", "64,", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"}},
};

TEST(Options, EveryBadValueIsRejectedNamingVariableValueAndRange) {
  for (const Bad& b : kBad) {
    const opt::Option* o = opt::find(b.name);
    ASSERT_NE(o, nullptr) << b.name;
    for (const char* v : b.values) {
      const std::string msg = rejection(b.name, v);
      ASSERT_FALSE(msg.empty()) << b.name << "='" << v << "' was accepted";
      EXPECT_NE(msg.find(std::string(b.name) + "='" + v + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::string("accepted: ") + std::string(o->accepted)), std::string::npos) << msg;
    }
  }
}

TEST(Options, EveryOptionWithARangeHasBadValuesTested) {
  // Options that take free text (paths) have no bad values; all others must
  // appear in kBad, so a new option cannot go untested.
  for (const opt::Option& o : opt::table()) {
    if (o.name == "SPOOL_TELEMETRY" || o.name == "SPOOL_AUTOTUNE_DB") continue;
    bool found = false;
    for (const Bad& b : kBad) found = found || o.name == b.name;
    EXPECT_TRUE(found) << o.name << " has no bad-value test";
  }
}

TEST(Options, GoodValuesParseToWhatTheyMean) {
  opt::Settings s;
  opt::apply(s, "SPOOL_QUEUE_SLOTS", "2");
  EXPECT_EQ(s.queue_slots, 2u);
  opt::apply(s, "SPOOL_QUEUE_SLOTS", "1048576");
  EXPECT_EQ(s.queue_slots, 1048576u);
  opt::apply(s, "SPOOL_WATCHDOG_MS", "10");
  EXPECT_EQ(s.watchdog_ms, 10u);
  opt::apply(s, "SPOOL_STARTUP_MS", "100");
  EXPECT_EQ(s.startup_ms, 100u);
  opt::apply(s, "SPOOL_GRACE_MS", "20");
  EXPECT_EQ(s.grace_ms, 20u);
  opt::apply(s, "SPOOL_VALIDATE", "1");
  EXPECT_TRUE(s.validate);
  opt::apply(s, "SPOOL_VALIDATE", "off");
  EXPECT_FALSE(s.validate);
  opt::apply(s, "SPOOL_PARK_US", "0");
  EXPECT_EQ(s.park_us, 0u);
  opt::apply(s, "SPOOL_PERSISTENT_GROUPS", "0");
  EXPECT_EQ(s.persistent_groups, 0u);
  opt::apply(s, "SPOOL_PERSISTENT_WG", "1024");
  EXPECT_EQ(s.persistent_wg, 1024u);
  opt::apply(s, "SPOOL_MODE", "recorded");
  EXPECT_EQ(s.mode, spool::LaunchMode::recorded);
  opt::apply(s, "SPOOL_MODE", "auto");
  EXPECT_FALSE(s.mode.has_value());
  opt::apply(s, "SPOOL_CALIBRATE", "0");
  EXPECT_EQ(s.calibrate, opt::Calibrate::skip);
  opt::apply(s, "SPOOL_CALIBRATE", "always");
  EXPECT_EQ(s.calibrate, opt::Calibrate::always);
  opt::apply(s, "SPOOL_LOG", "debug");
  EXPECT_EQ(s.log, spool::LogLevel::debug);
  opt::apply(s, "SPOOL_AUTOTUNE", "frozen");
  EXPECT_EQ(s.autotune, opt::Autotune::frozen);
  opt::apply(s, "SPOOL_AUTOTUNE_WG", "128,1,1024");
  EXPECT_EQ(s.autotune_wg, (std::vector<std::uint32_t>{128, 1, 1024}));
  opt::apply(s, "SPOOL_DEVICE", "llvmpipe");
  EXPECT_EQ(s.device, "llvmpipe");
  opt::apply(s, "SPOOL_DEVICE", "3");
  EXPECT_EQ(s.device, "3");
}

TEST(Options, EmptyValueMeansTheDefault) {
  opt::Settings s;
  opt::apply(s, "SPOOL_QUEUE_SLOTS", "16");
  opt::apply(s, "SPOOL_QUEUE_SLOTS", "");
  EXPECT_EQ(s.queue_slots, opt::Settings{}.queue_slots);
  opt::apply(s, "SPOOL_TELEMETRY", "/tmp/x.jsonl");
  opt::apply(s, "SPOOL_TELEMETRY", "");
  EXPECT_FALSE(s.telemetry.has_value());
}

TEST(Options, DefaultsInTheTableMatchTheDefaultSettings) {
  // Parsing every row's documented default gives Settings{}: the table and
  // the struct cannot drift apart.
  opt::Settings parsed;
  for (const opt::Option& o : opt::table()) {
    if (!o.fallback.empty()) opt::apply(parsed, o.name, o.fallback);
  }
  const opt::Settings d;
  EXPECT_EQ(parsed.calibrate, d.calibrate);
  EXPECT_EQ(parsed.log, d.log);
  EXPECT_EQ(parsed.queue_slots, d.queue_slots);
  EXPECT_EQ(parsed.persistent_groups, d.persistent_groups);
  EXPECT_EQ(parsed.persistent_wg, d.persistent_wg);
  EXPECT_EQ(parsed.park_us, d.park_us);
  EXPECT_EQ(parsed.watchdog_ms, d.watchdog_ms);
  EXPECT_EQ(parsed.startup_ms, d.startup_ms);
  EXPECT_EQ(parsed.grace_ms, d.grace_ms);
  EXPECT_EQ(parsed.autotune, d.autotune);
  EXPECT_EQ(parsed.autotune_wg, d.autotune_wg);
}

TEST(Options, UnknownNameIsAnErrorNotAnEmptyString) {
  opt::Settings s;
  EXPECT_THROW(opt::apply(s, "SPOOL_QUEUE_SLOT", "16"), spool::Error);
  EXPECT_EQ(opt::find("SPOOL_NO_SUCH_OPTION"), nullptr);
}

TEST(Options, FromEnvironmentReadsTheVariablesThatAreSet) {
  CleanEnv clean;
  ScopedEnv env{{"SPOOL_QUEUE_SLOTS", "16"}, {"SPOOL_WATCHDOG_MS", "300"}, {"SPOOL_AUTOTUNE", "off"}};
  const opt::Settings s = opt::from_environment();
  EXPECT_EQ(s.queue_slots, 16u);
  EXPECT_EQ(s.watchdog_ms, 300u);
  EXPECT_EQ(s.autotune, opt::Autotune::off);
  EXPECT_EQ(s.park_us, opt::Settings{}.park_us);
}

TEST(Options, FromEnvironmentRejectsABadValue) {
  CleanEnv clean;
  ScopedEnv env{{"SPOOL_QUEUE_SLOTS", "3000000000"}};
  try {
    (void)opt::from_environment();
    FAIL() << "SPOOL_QUEUE_SLOTS=3000000000 accepted";
  } catch (const spool::Error& e) {
    EXPECT_NE(std::string(e.what()).find("SPOOL_QUEUE_SLOTS='3000000000' is out of range"), std::string::npos)
        << e.what();
  }
}

TEST(Options, RuntimeCreationRejectsABadEnvironmentValue) {
  CleanEnv clean;
  ScopedEnv env{{"SPOOL_WATCHDOG_MS", "0"}};
  std::vector<std::unique_ptr<spool::backend::Backend>> b;
  b.push_back(std::make_unique<spool::test::MockBackend>(nullptr));
  try {
    spool::Runtime rt(std::move(b));
    FAIL() << "SPOOL_WATCHDOG_MS=0 accepted";
  } catch (const spool::Error& e) {
    EXPECT_NE(std::string(e.what()).find("SPOOL_WATCHDOG_MS='0'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("10..600000"), std::string::npos) << e.what();
  }
}

TEST(Options, DeviceOptionsGoThroughTheSameTable) {
  CleanEnv clean;
  std::vector<std::unique_ptr<spool::backend::Backend>> b;
  b.push_back(std::make_unique<spool::test::MockBackend>(nullptr));
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "sometimes";
  spool::Runtime rt(std::move(b), o);
  try {
    rt.open_default();
    FAIL() << "DeviceOptions::autotune='sometimes' accepted";
  } catch (const spool::Error& e) {
    EXPECT_NE(std::string(e.what()).find("DeviceOptions::autotune (SPOOL_AUTOTUNE)='sometimes'"), std::string::npos)
        << e.what();
  }
}

TEST(Options, ScopedEnvRestoresThePreviousValue) {
  ::setenv("SPOOL_PARK_US", "1234", 1);
  {
    ScopedEnv env{{"SPOOL_PARK_US", "99"}};
    EXPECT_EQ(opt::env_value("SPOOL_PARK_US"), "99");
  }
  EXPECT_EQ(opt::env_value("SPOOL_PARK_US"), "1234");
  ::unsetenv("SPOOL_PARK_US");
  EXPECT_FALSE(opt::env_value("SPOOL_PARK_US").has_value());
}

}  // namespace
