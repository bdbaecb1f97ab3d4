// GPU tests of the CUDA backend. Every test skips, saying why, when
// enumerate() finds no CUDA device (no driver or no GPU).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "scoped_env.hpp"
#include "spool/cuda/backend.hpp"
#include "spool/error.hpp"

namespace {

using namespace spool;
using backend::ExecResult;
using backend::PackedItem;

struct Gpu : ::testing::Test {
  spool::test::ScopedEnv env;  // restored after each test: the binary passes when run whole
  std::unique_ptr<backend::Backend> be;
  std::unique_ptr<backend::DeviceImpl> dev;
  void SetUp() override {
    env.set("SPOOL_QUEUE_SLOTS", "16");  // small ring: backpressure is exercised
    env.set("SPOOL_WATCHDOG_MS", "300");
    be = cuda::make_backend();
    std::string why;
    const auto infos = be->enumerate(&why);
    if (infos.empty()) GTEST_SKIP() << "no CUDA device: " << why;
    dev = be->open(0);
  }
  ExecResult run(LaunchMode m, backend::KernelImpl& k, std::span<const PackedItem> items, bool seq = false) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    ExecResult out;
    dev->execute(m, backend::ExecRequest{&k, items, seq}, [&](ExecResult&& r) {
      std::lock_guard g(mu);
      out = std::move(r);
      done = true;
      cv.notify_all();
    });
    std::unique_lock g(mu);
    cv.wait(g, [&] { return done; });
    return out;
  }
  template <class T>
  T* host(std::shared_ptr<backend::BufferImpl>& b) { return static_cast<T*>(b->host_ptr()); }
};

const LaunchMode kModes[] = {LaunchMode::launches, LaunchMode::recorded, LaunchMode::persistent};

TEST_F(Gpu, DeviceInfoIsFilled) {
  EXPECT_FALSE(dev->info().name.empty());
  EXPECT_EQ(dev->info().uuid.size(), 32u);
  EXPECT_GT(dev->info().limits.compute_units, 0u);
}

TEST_F(Gpu, SaxpyStencilReduceMatchCpuInEveryMode) {
  constexpr std::uint32_t n = 1000;
  for (LaunchMode m : kModes) {
    auto x = dev->create_buffer(n * 4, true), y = dev->create_buffer(n * 4, true);
    std::vector<float> ry(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      host<float>(x)[i] = float(i);
      host<float>(y)[i] = ry[i] = 1.0f;
    }
    auto k = dev->load_builtin("saxpy", {});
    struct { std::uint64_t x, y; float a; std::uint32_t n; } a{x->device_address(), y->device_address(), 2.0f, n};
    std::vector<PackedItem> items(3, PackedItem{n, 0, reinterpret_cast<const std::byte*>(&a)});
    for (std::uint32_t i = 0; i < 3; ++i) items[i].index = i;
    const auto r = run(m, *k, items, true);
    EXPECT_EQ(r.items_run, 3u);
    for (int rep = 0; rep < 3; ++rep) for (std::uint32_t i = 0; i < n; ++i) ry[i] = 2.0f * float(i) + ry[i];
    for (std::uint32_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(host<float>(y)[i], ry[i]) << to_string(m) << " " << i;

    auto ks = dev->load_builtin("stencil_step", {});
    struct { std::uint64_t s, d; float alpha; std::uint32_t n; } sa{x->device_address(), y->device_address(), 0.25f, n};
    PackedItem si{n, 0, reinterpret_cast<const std::byte*>(&sa)};
    run(m, *ks, std::span(&si, 1));
    for (std::uint32_t i = 1; i + 1 < n; ++i) {
      const float c = float(i);
      ASSERT_FLOAT_EQ(host<float>(y)[i], c + 0.25f * (float(i - 1) - 2.0f * c + float(i + 1))) << i;
    }

    auto kr = dev->load_builtin("reduce_step", {});
    struct { std::uint64_t in, out; std::uint32_t n; } ra{x->device_address(), y->device_address(), n};
    PackedItem ri{n / 2, 0, reinterpret_cast<const std::byte*>(&ra)};
    run(m, *kr, std::span(&ri, 1));
    for (std::uint32_t i = 0; i < n / 2; ++i) ASSERT_FLOAT_EQ(host<float>(y)[i], float(4 * i + 1)) << i;
  }
}

TEST_F(Gpu, TallyExactlyOnceFromFourThreadsInEveryMode) {
  constexpr std::uint32_t kItems = 200, kGrid = 8;
  for (LaunchMode m : kModes) {
    auto counts = dev->create_buffer(4 * kItems * kGrid * 4, true);
    std::memset(counts->host_ptr(), 0, 4 * kItems * kGrid * 4);
    auto k = dev->load_builtin("tally", {});
    std::vector<std::thread> th;
    for (std::uint32_t t = 0; t < 4; ++t) {
      th.emplace_back([&, t] {
        struct A { std::uint64_t c; std::uint32_t id; std::uint32_t pad; };
        std::vector<A> args(kItems);
        std::vector<PackedItem> items(kItems);
        for (std::uint32_t i = 0; i < kItems; ++i) {
          args[i] = A{counts->device_address(), (t * kItems + i) * kGrid, 0};
          items[i] = PackedItem{kGrid, i, reinterpret_cast<const std::byte*>(&args[i])};
        }
        const auto r = run(m, *k, items);
        EXPECT_EQ(r.items_run, kItems);
        EXPECT_EQ(r.items_failed, 0u);
      });
    }
    for (auto& x : th) x.join();
    for (std::uint32_t i = 0; i < 4 * kItems * kGrid; ++i) {
      ASSERT_EQ(host<std::uint32_t>(counts)[i], 1u) << to_string(m) << " counter " << i;
    }
  }
}

TEST_F(Gpu, ParkAndRestart) {
  auto k = dev->load_builtin("empty", {});
  alignas(8) std::byte z[8] = {};
  PackedItem it{1, 0, z};
  EXPECT_EQ(run(LaunchMode::persistent, *k, std::span(&it, 1)).items_run, 1u);
  dev->park_persistent();
  EXPECT_FALSE(dev->persistent_resident(*k));
  const auto r = run(LaunchMode::persistent, *k, std::span(&it, 1));
  EXPECT_EQ(r.items_run, 1u);
  EXPECT_FALSE(r.was_resident);
}

TEST_F(Gpu, WatchdogFailsTheStalledItemAndRerunsTheRest) {
  auto gate = dev->create_buffer(4, true), marks = dev->create_buffer(2 * 64 * 4, true);
  host<std::uint32_t>(gate)[0] = 1;
  std::memset(marks->host_ptr(), 0, 2 * 64 * 4);
  auto k = dev->load_builtin("spin", {});
  struct A { std::uint64_t g, m; std::uint32_t id, limit; };
  std::vector<A> args(8);
  std::vector<PackedItem> items(8);
  for (std::uint32_t i = 0; i < 8; ++i) {
    args[i] = A{gate->device_address(), marks->device_address(), i, i == 0 ? 0xffffffffu : 1u};
    items[i] = PackedItem{1, i, reinterpret_cast<const std::byte*>(&args[i])};
  }
  env.set("SPOOL_PERSISTENT_GROUPS", "1");
  dev.reset();
  dev = be->open(0);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::atomic_ref<std::uint32_t>(host<std::uint32_t>(gate)[0]).store(0);
  });
  const auto r = run(LaunchMode::persistent, *k, items, true);
  release.join();
  EXPECT_TRUE(r.watchdog_fired);
  EXPECT_EQ(r.items_run + r.items_failed, 8u);
  for (std::uint32_t i = 1; i < 8; ++i) EXPECT_LE(host<std::uint32_t>(marks)[2 * i], 1u) << "item " << i;
}

}  // namespace
