// The one log sink: the handler an application installs receives every
// message at or above the threshold (set_log_level, else SPOOL_LOG), and the
// runtime's own diagnostics go through it.
#include "spool/log.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mock_backend.hpp"
#include "scoped_env.hpp"
#include "spool/device.hpp"
#include "spool/runtime.hpp"

namespace {

using spool::LogLevel;
using spool::test::ScopedEnv;

// Installs a collecting handler for the scope; restores the previous handler
// and the threshold afterwards.
struct Capture {
  struct Line {
    LogLevel level;
    std::string text;
  };
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<Line>> lines = std::make_shared<std::vector<Line>>();
  spool::LogHandler previous;
  Capture() {
    previous = spool::set_log_handler([mu = mu, lines = lines](LogLevel l, std::string_view m) {
      std::lock_guard lk(*mu);
      lines->push_back({l, std::string(m)});
    });
  }
  ~Capture() {
    spool::set_log_handler(previous);
    spool::reset_log_level();
  }
  std::vector<Line> seen() const {
    std::lock_guard lk(*mu);
    return *lines;
  }
  bool contains(LogLevel l, const std::string& needle) const {
    for (const auto& x : seen()) {
      if (x.level == l && x.text.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

TEST(Log, HandlerReceivesMessagesAtOrAboveTheThreshold) {
  Capture c;
  spool::set_log_level(LogLevel::warn);
  spool::log(LogLevel::error, "e");
  spool::log(LogLevel::warn, "w");
  spool::log(LogLevel::info, "i");
  spool::log(LogLevel::debug, "d");
  const auto s = c.seen();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].level, LogLevel::error);
  EXPECT_EQ(s[0].text, "e");
  EXPECT_EQ(s[1].level, LogLevel::warn);
}

TEST(Log, SpoolLogSetsTheThresholdUnlessOverridden) {
  Capture c;
  ScopedEnv env{{"SPOOL_LOG", "debug"}};
  EXPECT_EQ(spool::log_level(), LogLevel::debug);
  spool::log(LogLevel::debug, "visible");
  env.set("SPOOL_LOG", "error");
  EXPECT_EQ(spool::log_level(), LogLevel::error);
  spool::log(LogLevel::warn, "hidden");
  spool::set_log_level(LogLevel::info);
  spool::log(LogLevel::info, "override");
  const auto s = c.seen();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].text, "visible");
  EXPECT_EQ(s[1].text, "override");
}

TEST(Log, DefaultThresholdIsWarn) {
  ScopedEnv env;
  env.unset("SPOOL_LOG");
  spool::reset_log_level();
  EXPECT_EQ(spool::log_level(), LogLevel::warn);
  EXPECT_TRUE(spool::log_enabled(LogLevel::warn));
  EXPECT_FALSE(spool::log_enabled(LogLevel::info));
}

TEST(Log, SetLogHandlerReturnsThePreviousOne) {
  int first = 0, second = 0;
  spool::LogHandler original = spool::set_log_handler([&](LogLevel, std::string_view) { ++first; });
  spool::LogHandler prev = spool::set_log_handler([&](LogLevel, std::string_view) { ++second; });
  spool::set_log_level(LogLevel::warn);
  spool::log(LogLevel::warn, "to second");
  prev(LogLevel::warn, "to first, directly");
  spool::set_log_handler(original);  // back to the default (an empty handler)
  spool::reset_log_level();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_FALSE(original);  // nothing was installed before this test
}

TEST(Log, AThrowingHandlerDoesNotReachTheCaller) {
  auto prev = spool::set_log_handler([](LogLevel, std::string_view) { throw std::runtime_error("boom"); });
  spool::set_log_level(LogLevel::warn);
  EXPECT_NO_THROW(spool::log(LogLevel::error, "x"));
  spool::set_log_handler(prev);
  spool::reset_log_level();
}

TEST(Log, ParsesExactlyTheFourLevelNames) {
  EXPECT_EQ(spool::parse_log_level("error"), LogLevel::error);
  EXPECT_EQ(spool::parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(spool::parse_log_level("info"), LogLevel::info);
  EXPECT_EQ(spool::parse_log_level("debug"), LogLevel::debug);
  EXPECT_FALSE(spool::parse_log_level("warning").has_value());
  EXPECT_FALSE(spool::parse_log_level("").has_value());
}

// A backend that offers no device, with a reason (as CUDA does without a driver).
class NoDeviceBackend final : public spool::backend::Backend {
 public:
  spool::BackendKind kind() const noexcept override { return spool::BackendKind::cuda; }
  std::vector<spool::DeviceInfo> enumerate(std::string* why) override {
    *why = "no CUDA driver: cudaErrorInsufficientDriver";
    return {};
  }
  std::unique_ptr<spool::backend::DeviceImpl> open(std::size_t) override { return nullptr; }
};

TEST(Log, ABackendWithoutDevicesIsAnInfoLineNotAWarning) {
  Capture c;
  spool::set_log_level(LogLevel::debug);
  std::vector<std::unique_ptr<spool::backend::Backend>> b;
  b.push_back(std::make_unique<NoDeviceBackend>());
  b.push_back(std::make_unique<spool::test::MockBackend>(nullptr));
  spool::Runtime rt(std::move(b));
  EXPECT_TRUE(c.contains(LogLevel::info, "cuda: no CUDA driver")) << "not logged at info";
  for (const auto& l : c.seen()) EXPECT_NE(l.level, LogLevel::warn) << l.text;
  ASSERT_EQ(rt.notes().size(), 1u);
}

TEST(Log, UnwritableTelemetryPathIsAWarningAndTheDeviceStillRuns) {
  Capture c;
  spool::set_log_level(LogLevel::warn);
  std::vector<std::unique_ptr<spool::backend::Backend>> b;
  b.push_back(std::make_unique<spool::test::MockBackend>(nullptr));
  spool::RuntimeOptions o;
  o.device_options.calibrate = true;
  o.device_options.autotune = "off";
  o.device_options.telemetry_path = "/nonexistent-dir-for-spool-test/t.jsonl";
  spool::Runtime rt(std::move(b), o);
  std::shared_ptr<spool::Device> dev;
  ASSERT_NO_THROW(dev = rt.open_default());
  EXPECT_TRUE(c.contains(LogLevel::warn, "telemetry disabled: cannot open '/nonexistent-dir-for-spool-test/t.jsonl'"));
  auto x = dev->buffer(256);
  spool::Batch batch(dev->kernel("axpy"));
  batch.add(64, {spool::arg(x), spool::arg(x), spool::arg(1.0f), spool::arg(64u)});
  EXPECT_TRUE(dev->run(std::move(batch)).ok());
}

}  // namespace
