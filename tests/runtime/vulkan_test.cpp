// End-to-end tests on the default Vulkan device (lavapipe in CI): every
// kernel in every mode against a CPU reference, exactly-once under
// concurrency, backpressure, park/restart, watchdog recovery, errors.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "spool/spool.hpp"

namespace {

using spool::LaunchMode;
using namespace std::chrono_literals;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::uint32_t kItemsPerThread = 20'000;  // sanitizers slow the host 5-20x
#else
constexpr std::uint32_t kItemsPerThread = 100'000;
#endif

constexpr LaunchMode kModes[] = {LaunchMode::launches, LaunchMode::recorded, LaunchMode::persistent};

struct Env {
  std::vector<std::pair<std::string, std::string>> vars;
  explicit Env(std::initializer_list<std::pair<std::string, std::string>> v) : vars(v) {
    for (auto& [k, val] : vars) setenv(k.c_str(), val.c_str(), 1);
  }
  ~Env() {
    for (auto& [k, val] : vars) unsetenv(k.c_str());
  }
};

std::shared_ptr<spool::Device> open_device(bool calibrate = false) {
  spool::RuntimeOptions o;
  o.device_options.calibrate = calibrate;
  o.device_options.autotune = "off";  // each test runs exactly the kernel it names
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

#define REQUIRE_DEVICE(dev)                                        \
  if (!(dev)) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)"

spool::SubmitOptions forced(LaunchMode m) {
  spool::SubmitOptions o;
  o.force_mode = m;
  return o;
}

TEST(VulkanKernels, SaxpyMatchesCpuInEveryMode) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("saxpy");
  constexpr std::uint32_t kItems = 40, kLen = 300;
  for (LaunchMode m : kModes) {
    auto x = dev->buffer(kItems * kLen * 4), y = dev->buffer(kItems * kLen * 4);
    for (std::uint32_t i = 0; i < kItems * kLen; ++i) {
      x.as<float>()[i] = float(i % 97);
      y.as<float>()[i] = 1.0f;
    }
    spool::Batch b(k);
    for (std::uint32_t it = 0; it < kItems; ++it) {
      b.add(kLen, {spool::arg(x, it * kLen * 4), spool::arg(y, it * kLen * 4), spool::arg(float(it)), spool::arg(kLen)});
    }
    const auto v = dev->run(std::move(b), forced(m));
    ASSERT_TRUE(v.ok()) << v.failure;
    EXPECT_EQ(v.mode, m);
    EXPECT_EQ(v.items_run, kItems);
    for (std::uint32_t it = 0; it < kItems; ++it) {
      for (std::uint32_t i = 0; i < kLen; ++i) {
        const std::uint32_t g = it * kLen + i;
        ASSERT_FLOAT_EQ(y.as<float>()[g], float(it) * float(g % 97) + 1.0f)
            << "mode " << spool::policy::to_string(m) << " item " << it << " index " << i;
      }
    }
  }
}

TEST(VulkanKernels, StencilChainMatchesCpuInEveryMode) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("stencil_step");
  constexpr std::uint32_t kN = 129, kSteps = 33;
  for (LaunchMode m : kModes) {
    auto a = dev->buffer(kN * 4), b = dev->buffer(kN * 4);
    std::vector<float> ref(kN, 0.0f), tmp(kN);
    for (std::uint32_t i = 0; i < kN; ++i) ref[i] = float((i * 37) % 11);
    std::copy(ref.begin(), ref.end(), a.as<float>().begin());
    spool::Batch chain(k, spool::Ordering::sequential);
    for (std::uint32_t s = 0; s < kSteps; ++s) {
      chain.add(kN, {spool::arg(s % 2 ? b : a), spool::arg(s % 2 ? a : b), spool::arg(0.2f), spool::arg(kN)});
    }
    const auto v = dev->run(std::move(chain), forced(m));
    ASSERT_TRUE(v.ok()) << v.failure;
    for (std::uint32_t s = 0; s < kSteps; ++s) {
      for (std::uint32_t i = 0; i < kN; ++i) {
        tmp[i] = (i == 0 || i + 1 == kN) ? ref[i] : ref[i] + 0.2f * (ref[i - 1] - 2.0f * ref[i] + ref[i + 1]);
      }
      ref.swap(tmp);
    }
    const auto out = (kSteps % 2 ? b : a).as<float>();
    for (std::uint32_t i = 0; i < kN; ++i) {
      ASSERT_NEAR(out[i], ref[i], 1e-4) << "mode " << spool::policy::to_string(m) << " cell " << i;
    }
  }
}

TEST(VulkanKernels, ReductionChainSumsInEveryMode) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("reduce_step");
  constexpr std::uint32_t kN = 1000;
  for (LaunchMode m : kModes) {
    auto a = dev->buffer(kN * 4), b = dev->buffer(kN * 4);
    double expect = 0;
    for (std::uint32_t i = 0; i < kN; ++i) {
      a.as<float>()[i] = float(i % 13);
      expect += i % 13;
    }
    spool::Batch sum(k, spool::Ordering::sequential);
    std::uint32_t len = kN;
    bool from_a = true;
    while (len > 1) {
      const std::uint32_t half = (len + 1) / 2;
      sum.add(half, {spool::arg(from_a ? a : b), spool::arg(from_a ? b : a), spool::arg(len)});
      from_a = !from_a;
      len = half;
    }
    const auto v = dev->run(std::move(sum), forced(m));
    ASSERT_TRUE(v.ok()) << v.failure;
    EXPECT_FLOAT_EQ((from_a ? a : b).as<float>()[0], float(expect)) << spool::policy::to_string(m);
  }
}

// Each item bumps counts[item_id .. item_id + grid) once.
void tally_batches(spool::Device& dev, const spool::Buffer& counts, std::uint32_t first,
                   std::uint32_t n, std::uint32_t batch, std::optional<LaunchMode> mode,
                   std::atomic<std::uint32_t>& failed) {
  auto k = dev.kernel("tally");
  std::vector<spool::Submission> pending;
  for (std::uint32_t base = first; base < first + n; base += batch) {
    spool::Batch b(k);
    const std::uint32_t end = std::min(first + n, base + batch);
    b.reserve(end - base);
    for (std::uint32_t id = base; id < end; ++id) b.add(1, {spool::arg(counts), spool::arg(id)});
    spool::SubmitOptions o;
    o.force_mode = mode;
    pending.push_back(dev.submit(std::move(b), o));
  }
  for (auto& s : pending) {
    const auto& v = s.wait();
    failed.fetch_add(v.items_failed);
  }
}

TEST(VulkanExactlyOnce, FourThreadsPersistentEveryItemRunsOnce) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto counts = dev->buffer(std::uint64_t{4} * kItemsPerThread * 4);
  std::atomic<std::uint32_t> failed{0};
  std::vector<std::thread> ts;
  for (std::uint32_t t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      tally_batches(*dev, counts, t * kItemsPerThread, kItemsPerThread, 5000, LaunchMode::persistent, failed);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed.load(), 0u);
  const auto c = counts.as<std::uint32_t>();
  std::uint32_t wrong = 0;
  for (std::uint32_t i = 0; i < 4 * kItemsPerThread; ++i) wrong += c[i] != 1;
  EXPECT_EQ(wrong, 0u) << "items not run exactly once";
}

TEST(VulkanExactlyOnce, FourThreadsAutomaticModesEveryItemRunsOnce) {
  auto dev = open_device(/*calibrate=*/true);
  REQUIRE_DEVICE(dev);
  constexpr std::uint32_t kPer = 6000;
  auto counts = dev->buffer(4 * kPer * 4);
  std::atomic<std::uint32_t> failed{0};
  std::vector<std::thread> ts;
  for (std::uint32_t t = 0; t < 4; ++t) {
    // Batch sizes 1, 30 and 3000 so every mode gets chosen somewhere.
    ts.emplace_back([&, t] {
      const std::uint32_t batch = t == 0 ? 1 : t == 1 ? 30 : 3000;
      tally_batches(*dev, counts, t * kPer, t == 0 ? 300 : kPer, batch, std::nullopt, failed);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed.load(), 0u);
  const auto c = counts.as<std::uint32_t>();
  for (std::uint32_t t = 0; t < 4; ++t) {
    const std::uint32_t n = t == 0 ? 300 : kPer;
    for (std::uint32_t i = 0; i < kPer; ++i) {
      ASSERT_EQ(c[t * kPer + i], i < n ? 1u : 0u) << "thread " << t << " item " << i;
    }
  }
}

TEST(VulkanQueue, FullQueueAppliesBackpressureAndDropsNothing) {
  Env env({{"SPOOL_QUEUE_SLOTS", "16"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  constexpr std::uint32_t kN = 3000;
  auto counts = dev->buffer(kN * 4);
  std::atomic<std::uint32_t> failed{0};
  tally_batches(*dev, counts, 0, kN, kN, LaunchMode::persistent, failed);
  EXPECT_EQ(failed.load(), 0u);
  for (std::uint32_t i = 0; i < kN; ++i) ASSERT_EQ(counts.as<std::uint32_t>()[i], 1u) << i;
}

TEST(VulkanPersistent, ParksWhenIdleAndRestartsOnDemand) {
  Env env({{"SPOOL_PARK_US", "100000"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("tally");
  auto counts = dev->buffer(64 * 4);
  auto run = [&](std::uint32_t id) {
    spool::Batch b(k);
    b.add(1, {spool::arg(counts), spool::arg(id)});
    return dev->run(std::move(b), forced(LaunchMode::persistent));
  };
  const auto first = run(0);
  EXPECT_FALSE(first.persistent_was_resident);
  const auto second = run(1);
  EXPECT_TRUE(second.persistent_was_resident) << "kernel should still be resident right after a batch";
  EXPECT_TRUE(dev->impl().persistent_resident(*k.impl()));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (dev->impl().persistent_resident(*k.impl()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();  // waits on the condition; the deadline only bounds a failure
  }
  EXPECT_FALSE(dev->impl().persistent_resident(*k.impl())) << "idle persistent kernel did not park";
  const auto third = run(2);
  EXPECT_FALSE(third.persistent_was_resident);
  EXPECT_TRUE(third.ok());
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(counts.as<std::uint32_t>()[i], 1u);
}

TEST(VulkanErrors, UnknownKernelNamesTheKnownOnes) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  try {
    dev->kernel("saxpyy");
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("unknown kernel 'saxpyy'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("saxpy"), std::string::npos);
  }
}

TEST(VulkanErrors, ReflectedArgumentsAreCheckedAtSubmit) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("saxpy");
  ASSERT_EQ(k.args().size(), 4u);
  EXPECT_EQ(k.args()[0].name, "x");
  EXPECT_EQ(k.args()[0].kind, spool::ArgKind::buffer);
  EXPECT_EQ(k.args()[2].kind, spool::ArgKind::f32);
  EXPECT_EQ(k.args()[3].kind, spool::ArgKind::u32);
  auto x = dev->buffer(64);
  spool::Batch b(k);
  EXPECT_THROW(b.add(4, {spool::arg(x), spool::arg(x), spool::arg(2u), spool::arg(4u)}), spool::Error);
  EXPECT_THROW(b.add(4, {spool::arg(x), spool::arg(x)}), spool::Error);
}

TEST(VulkanErrors, PersistentOnModuleWithoutVariantIsClearError) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  const char* dir = SPOOL_TEST_SPV_DIR;
  auto k = dev->load_spirv_file("saxpy_launch_only", std::string(dir) + "/saxpy.launch.spv");
  EXPECT_FALSE(k.has_persistent());
  auto x = dev->buffer(64);
  spool::Batch b(k);
  b.add(4, {spool::arg(x), spool::arg(x), spool::arg(1.0f), spool::arg(4u)});
  try {
    dev->run(b, forced(LaunchMode::persistent));
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
    EXPECT_NE(std::string(e.what()).find("no persistent variant"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dev->run(b, forced(LaunchMode::launches)).ok());
}

TEST(VulkanErrors, CorruptSpirvFileIsRejected) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  const std::string path = testing::TempDir() + "/garbage.spv";
  std::ofstream(path) << "not spir-v at all";
  EXPECT_THROW(dev->load_spirv_file("junk", path), spool::Error);
}

TEST(VulkanShutdown, DestroyingDeviceCompletesPendingWork) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  constexpr std::uint32_t kN = 5000;
  auto counts = dev->buffer(kN * 4);
  auto k = dev->kernel("tally");
  spool::Batch b(k);
  for (std::uint32_t i = 0; i < kN; ++i) b.add(1, {spool::arg(counts), spool::arg(i)});
  auto sub = dev->submit(std::move(b), forced(LaunchMode::persistent));
  dev.reset();  // pending work must finish or be reported, never hang or vanish
  const auto& v = sub.wait();
  EXPECT_EQ(v.items_run + v.items_failed, kN);
  EXPECT_EQ(v.items_failed, 0u) << v.failure;
  for (std::uint32_t i = 0; i < kN; ++i) ASSERT_EQ(counts.as<std::uint32_t>()[i], 1u) << i;
}

TEST(VulkanCalibration, MeasuresEveryOverhead) {
  auto dev = open_device(/*calibrate=*/true);
  REQUIRE_DEVICE(dev);
  const auto p = dev->profile();
  EXPECT_EQ(p.source, "calibrated");
  EXPECT_GT(p.launch_ns, 0);
  EXPECT_GT(p.replay_ns, 0);
  EXPECT_GT(p.queue_item_ns, 0);
  EXPECT_GT(p.persistent_setup_ns, 0);
  EXPECT_TRUE(p.recorded_available);
  EXPECT_TRUE(p.persistent_available);
}

TEST(VulkanTelemetry, EveryBatchWritesOneJsonLine) {
  const std::string path = testing::TempDir() + "/spool_telemetry_test.jsonl";
  std::remove(path.c_str());
  {
    spool::RuntimeOptions o;
    o.device_options.calibrate = false;
    o.device_options.autotune = "off";
    o.device_options.telemetry_path = path;
    auto rt = spool::make_runtime(o);
    if (rt.devices().empty()) GTEST_SKIP() << "no Vulkan device";
    auto dev = rt.open_default();
    auto counts = dev->buffer(64);
    auto k = dev->kernel("tally");
    for (LaunchMode m : kModes) {
      spool::Batch b(k);
      b.add(1, {spool::arg(counts), spool::arg(0u)});
      dev->run(std::move(b), forced(m));
    }
  }
  std::ifstream f(path);
  std::string line;
  int lines = 0;
  while (std::getline(f, line)) {
    ++lines;
    EXPECT_EQ(line.front(), '{');
    EXPECT_NE(line.find("\"kernel\":\"tally\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"measured_ns\":"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 3);
}

}  // namespace
