// The persistent mode end to end on the default Vulkan device (lavapipe in
// CI): the scenarios that once returned wrong numbers or stranded
// submissions, and the watchdog on a real stalled shader. Stalls come from
// the `spin` kernel, which polls a gate for a bounded number of polls
// (15.4 million at most, 0.3 s to a few seconds here); nothing sleeps to
// synchronise: waits are on submissions or on conditions with deadlines.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_kernels.hpp"
#include "vk_test_util.hpp"

namespace {

using spool::LaunchMode;
using spool::test::Env;
using spool::test::forced;
using spool::test::open_device;
using namespace std::chrono_literals;

// A tally item bumps counts[item_id + i] for i < grid.
spool::Batch tally_batch(spool::Kernel& k, spool::Buffer& counts, std::uint32_t n, std::uint32_t grid,
                         spool::Ordering o = spool::Ordering::independent) {
  spool::Batch b(k, o);
  b.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) b.add(grid, {spool::arg(counts), spool::arg(i * grid)});
  return b;
}

std::uint32_t count_not_one(const spool::Buffer& counts, std::uint32_t n) {
  const auto c = counts.as<std::uint32_t>();
  std::uint32_t bad = 0;
  for (std::uint32_t i = 0; i < n; ++i) bad += c[i] != 1;
  return bad;
}

// Issue scenario: 3000 tally items of grid 320 (each invocation of a long
// resident shader spends llvmpipe's loop budget) left 304 counters at 0.
TEST(VulkanPersistentCorrectness, LongResidencyLeavesNoItemCutShort) {
  auto dev = open_device(/*calibrate=*/true);
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("tally");
  constexpr std::uint32_t kItems = 3000, kGrid = 320;
  for (auto mode : {std::optional<LaunchMode>(LaunchMode::persistent), std::optional<LaunchMode>()}) {
    auto counts = dev->buffer(kItems * kGrid * 4);
    spool::SubmitOptions o;
    o.force_mode = mode;
    const auto v = dev->run(tally_batch(k, counts, kItems, kGrid), o);
    ASSERT_TRUE(v.ok()) << v.failure;
    EXPECT_EQ(v.items_run, kItems);
    EXPECT_EQ(count_not_one(counts, kItems * kGrid), 0u) << (mode ? "persistent" : "auto");
  }
}

// Issue scenario: a sequential batch of 2000 saxpy items over 256 floats
// (x = 1, y = 0, a = 1) must leave y[i] = 2000.
TEST(VulkanPersistentCorrectness, SequentialChainOf2000SaxpyItemsIsExact) {
  auto dev = open_device(/*calibrate=*/true);
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("saxpy");
  constexpr std::uint32_t kItems = 2000, kN = 256;
  for (auto mode : {std::optional<LaunchMode>(LaunchMode::persistent), std::optional<LaunchMode>()}) {
    auto x = dev->buffer(kN * 4), y = dev->buffer(kN * 4);
    for (std::uint32_t i = 0; i < kN; ++i) {
      x.as<float>()[i] = 1.0f;
      y.as<float>()[i] = 0.0f;
    }
    spool::Batch b(k, spool::Ordering::sequential);
    for (std::uint32_t it = 0; it < kItems; ++it) {
      b.add(kN, {spool::arg(x), spool::arg(y), spool::arg(1.0f), spool::arg(kN)});
    }
    spool::SubmitOptions o;
    o.force_mode = mode;
    const auto v = dev->run(std::move(b), o);
    ASSERT_TRUE(v.ok()) << v.failure;
    std::uint32_t wrong = 0;
    for (std::uint32_t i = 0; i < kN; ++i) wrong += y.as<float>()[i] != float(kItems);
    EXPECT_EQ(wrong, 0u) << (mode ? "persistent" : "auto");
  }
}

// Issue scenario: one saxpy item of grid 560 000 left 35 728 elements unrun.
TEST(VulkanPersistentCorrectness, OneItemWithAHugeGridRunsEveryIndex) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("saxpy");
  constexpr std::uint32_t kN = 560'000;
  auto x = dev->buffer(kN * 4), y = dev->buffer(kN * 4);
  for (std::uint32_t i = 0; i < kN; ++i) {
    x.as<float>()[i] = float(i % 7);
    y.as<float>()[i] = 1.0f;
  }
  spool::Batch b(k);
  b.add(kN, {spool::arg(x), spool::arg(y), spool::arg(2.0f), spool::arg(kN)});
  const auto v = dev->run(std::move(b), forced(LaunchMode::persistent));
  ASSERT_TRUE(v.ok()) << v.failure;
  std::uint32_t wrong = 0;
  for (std::uint32_t i = 0; i < kN; ++i) wrong += y.as<float>()[i] != 2.0f * float(i % 7) + 1.0f;
  EXPECT_EQ(wrong, 0u);
}

struct Spin {
  spool::Kernel kernel;
  spool::Buffer open_gate, closed_gate, marks;
  std::uint32_t n;
  Spin(spool::Device& dev, std::uint32_t items)
      : kernel(dev.kernel("spin")), open_gate(dev.buffer(16)), closed_gate(dev.buffer(16)),
        marks(dev.buffer(std::uint64_t{3} * items * 4)), n(items) {
    closed_gate.as<std::uint32_t>()[0] = 1;
  }
  // Item 0 spins on the closed gate (until its poll budget runs out); the
  // others pass at once.
  spool::Batch batch(spool::Ordering o = spool::Ordering::independent) {
    spool::Batch b(kernel, o);
    for (std::uint32_t i = 0; i < n; ++i) {
      b.add(1, {spool::arg(i == 0 ? closed_gate : open_gate), spool::arg(marks), spool::arg(i), spool::arg(0xffffffffu)});
    }
    return b;
  }
  std::uint32_t started(std::uint32_t i) const {
    return std::atomic_ref<std::uint32_t>(marks.as<std::uint32_t>()[3 * i]).load();
  }
  std::uint32_t finished(std::uint32_t i) const {
    return std::atomic_ref<std::uint32_t>(marks.as<std::uint32_t>()[3 * i + 1]).load();
  }
};

// Compiles the persistent spin pipeline (llvmpipe compiles at first use), so
// the watchdog tests measure stalls, not compilation.
void warm_spin(spool::Device& dev) {
  spool::Kernel k = dev.kernel("spin");
  auto gate = dev.buffer(16);
  auto marks = dev.buffer(16);
  spool::Batch b(k);
  b.add(1, {spool::arg(gate), spool::arg(marks), spool::arg(0u), spool::arg(1u)});
  ASSERT_TRUE(dev.run(std::move(b), forced(LaunchMode::persistent)).ok());
}

// The stalled item outlasts the watchdog (50 ms) and ends well within the
// grace period: the shader stops cleanly, the items it never claimed run by
// launches, every item exactly once.
TEST(VulkanWatchdog, StalledItemIsRecoveredAndEveryItemRunsOnce) {
  Env env({{"SPOOL_WATCHDOG_MS", "50"}, {"SPOOL_GRACE_MS", "60000"}, {"SPOOL_PERSISTENT_GROUPS", "1"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  warm_spin(*dev);
  for (auto order : {spool::Ordering::independent, spool::Ordering::sequential}) {
    Spin s(*dev, 20);
    const auto v = dev->submit(s.batch(order), forced(LaunchMode::persistent)).wait();
    EXPECT_TRUE(v.watchdog_fired);
    EXPECT_EQ(v.items_failed, 0u) << v.failure;
    EXPECT_EQ(v.items_run, 20u);
    EXPECT_GE(v.fallback_items, 1u);
    for (std::uint32_t i = 0; i < 20; ++i) {
      EXPECT_EQ(s.started(i), 1u) << "item " << i;
      EXPECT_EQ(s.finished(i), 1u) << "item " << i;
    }
  }
}

// Issue scenario: a 100-item batch behind one stalled item, 16 slots, and a
// shader that does not stop within the grace period: the submission
// completes (items reported failed), the device refuses work while the
// shader runs, and is usable in every mode once it has stopped.
TEST(VulkanWatchdog, HungShaderFailsItsItemsAndTheDeviceRecoversWhenItStops) {
  Env env({{"SPOOL_WATCHDOG_MS", "50"}, {"SPOOL_GRACE_MS", "20"}, {"SPOOL_QUEUE_SLOTS", "16"},
           {"SPOOL_PERSISTENT_GROUPS", "1"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  warm_spin(*dev);
  Spin s(*dev, 100);
  const auto v = dev->submit(s.batch(), forced(LaunchMode::persistent)).wait();
  EXPECT_TRUE(v.watchdog_fired);
  EXPECT_EQ(v.items_run, 0u);
  EXPECT_EQ(v.items_failed, 100u);
  EXPECT_NE(v.failure.find("hung"), std::string::npos) << v.failure;
  // Item 0 is the one stuck in the shader; no other item ever started.
  EXPECT_EQ(s.started(0), 1u);
  for (std::uint32_t i = 1; i < 100; ++i) EXPECT_EQ(s.started(i), 0u) << i;

  // The spin item ends by itself (its poll budget); until then the device
  // says it is hung. Wait for the condition, with a generous deadline.
  auto k = dev->kernel("tally");
  auto counts = dev->buffer(3 * 8 * 4);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  bool accepted = false;
  while (!accepted && std::chrono::steady_clock::now() < deadline) {
    try {
      const auto r = dev->run(tally_batch(k, counts, 8, 1), forced(LaunchMode::launches));
      EXPECT_TRUE(r.ok()) << r.failure;
      accepted = true;
    } catch (const spool::Error& e) {
      ASSERT_EQ(e.code(), spool::Errc::device_lost) << e.what();
      std::this_thread::yield();
    }
  }
  ASSERT_TRUE(accepted) << "the device never became usable again";
  EXPECT_EQ(s.finished(0), 1u);
  // Every mode works again.
  for (LaunchMode m : {LaunchMode::recorded, LaunchMode::persistent}) {
    const auto r = dev->run(tally_batch(k, counts, 8, 1), forced(m));
    EXPECT_TRUE(r.ok()) << spool::policy::to_string(m) << ": " << r.failure;
  }
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(counts.as<std::uint32_t>()[i], 3u) << i;
}

// Destroying the device while a batch waits behind a stalled item still
// completes that batch's submission.
TEST(VulkanWatchdog, DestroyingTheDeviceCompletesPendingSubmissions) {
  Env env({{"SPOOL_WATCHDOG_MS", "50"}, {"SPOOL_GRACE_MS", "60000"}, {"SPOOL_QUEUE_SLOTS", "4"},
           {"SPOOL_PERSISTENT_GROUPS", "1"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  warm_spin(*dev);
  Spin s(*dev, 30);
  spool::Submission sub = dev->submit(s.batch(), forced(LaunchMode::persistent));
  dev.reset();  // the only owner: the device closes now
  ASSERT_TRUE(sub.ready());
  const auto v = sub.wait();
  EXPECT_EQ(v.items_run + v.items_failed, 30u);
  for (std::uint32_t i = 0; i < 30; ++i) EXPECT_LE(s.finished(i), 1u) << i;
}

// A cold persistent pipeline (compiled at its first dispatch on llvmpipe)
// is not a stall: the start-up allowance covers it.
TEST(VulkanWatchdog, ColdPipelineCompilationIsNotAStall) {
  Env env({{"SPOOL_WATCHDOG_MS", "200"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("reduce_step");
  auto a = dev->buffer(64 * 4), b = dev->buffer(64 * 4);
  for (std::uint32_t i = 0; i < 64; ++i) a.as<float>()[i] = 1.0f;
  spool::Batch batch(k);
  batch.add(32, {spool::arg(a), spool::arg(b), spool::arg(64u)});
  const auto v = dev->run(std::move(batch), forced(LaunchMode::persistent));
  EXPECT_TRUE(v.ok()) << v.failure;
  EXPECT_FALSE(v.watchdog_fired);
  for (std::uint32_t i = 0; i < 32; ++i) EXPECT_EQ(b.as<float>()[i], 2.0f) << i;
}

// Bodies with loops on a driver with a loop budget (llvmpipe): declared
// right they run exactly in persistent mode; declared wrong the canary
// reports the item failed (never ok with a wrong sum); undeclared the
// persistent variant is refused with the reason.
struct RowSums {
  static constexpr std::uint32_t kRows = 256, kN = 64;
  spool::Buffer in, out;
  explicit RowSums(spool::Device& dev) : in(dev.buffer(kRows * kN * 4)), out(dev.buffer(kRows * 4)) {
    for (std::uint32_t i = 0; i < kRows * kN; ++i) in.as<float>()[i] = float(i % 7);
  }
  float expect(std::uint32_t row) const {
    float s = 0;
    for (std::uint32_t j = 0; j < kN; ++j) s += float((row * kN + j) % 7);
    return s;
  }
};

TEST(VulkanLoopBudget, DeclaredBodyLoopsRunExactlyInPersistentMode) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->load(test_kernels::row_sum_declared());
  ASSERT_TRUE(k.has_persistent()) << k.persistent_unavailable_reason();
  RowSums r(*dev);
  spool::Batch b(k);
  for (int rep = 0; rep < 400; ++rep) b.add(RowSums::kRows, {spool::arg(r.in), spool::arg(r.out), spool::arg(RowSums::kN), spool::arg(RowSums::kRows)});
  const auto v = dev->run(std::move(b), forced(LaunchMode::persistent));
  ASSERT_TRUE(v.ok()) << v.failure;
  for (std::uint32_t i = 0; i < RowSums::kRows; ++i) EXPECT_EQ(r.out.as<float>()[i], r.expect(i)) << i;
}

TEST(VulkanLoopBudget, WronglyDeclaredBodyIsReportedFailedNeverOkWithWrongResults) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->load(test_kernels::row_sum_wrong());
  if (!k.has_persistent()) GTEST_SKIP() << k.persistent_unavailable_reason();
  RowSums r(*dev);
  constexpr std::uint32_t kLong = 4000;  // 4000 iterations per call, declared 2
  auto in = dev->buffer(std::uint64_t{RowSums::kRows} * kLong * 4);
  for (std::uint64_t i = 0; i < std::uint64_t{RowSums::kRows} * kLong; ++i) in.as<float>()[i] = 1.0f;
  spool::Batch b(k);
  for (int rep = 0; rep < 20; ++rep) b.add(RowSums::kRows, {spool::arg(in), spool::arg(r.out), spool::arg(kLong), spool::arg(RowSums::kRows)});
  const auto v = dev->run(std::move(b), forced(LaunchMode::persistent));
  std::uint32_t wrong = 0;
  for (std::uint32_t i = 0; i < RowSums::kRows; ++i) wrong += r.out.as<float>()[i] != float(kLong);
  if (dev->info().type == spool::DeviceType::cpu) {
    // llvmpipe: the budget runs out inside an item; the canary says so.
    EXPECT_FALSE(v.ok());
    EXPECT_GE(v.items_failed, 1u);
    EXPECT_NE(v.failure.find("loop budget"), std::string::npos) << v.failure;
  }
  if (v.ok()) {
    EXPECT_EQ(wrong, 0u) << "reported ok with wrong sums";
  }
}

TEST(VulkanLoopBudget, UndeclaredBodyLoopsRefusePersistentWithTheReason) {
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->load(test_kernels::row_sum_undeclared());
  if (dev->info().type != spool::DeviceType::cpu) GTEST_SKIP() << "no loop budget on this device";
  EXPECT_FALSE(k.has_persistent());
  EXPECT_NE(k.persistent_unavailable_reason().find("SPOOL_BODY_LOOP_BOUND"), std::string::npos)
      << k.persistent_unavailable_reason();
  RowSums r(*dev);
  spool::Batch b(k);
  b.add(RowSums::kRows, {spool::arg(r.in), spool::arg(r.out), spool::arg(RowSums::kN), spool::arg(RowSums::kRows)});
  EXPECT_THROW(dev->run(b, forced(LaunchMode::persistent)), spool::Error);
  // The other modes run it, and the automatic choice never picks persistent.
  const auto v = dev->run(std::move(b));
  ASSERT_TRUE(v.ok()) << v.failure;
  EXPECT_NE(v.mode, LaunchMode::persistent);
  for (std::uint32_t i = 0; i < RowSums::kRows; ++i) EXPECT_EQ(r.out.as<float>()[i], r.expect(i)) << i;
}

}  // namespace
