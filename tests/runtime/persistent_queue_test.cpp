// The persistent queue engine, driven by hand (tick()) with a fake clock and a
// simulated device: publication, backpressure, chunks, gates, the liveness
// watchdog, recovery, hangs, parking, kernel switches and destruction. Exact
// outcomes, no real time.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "sim_ring_device.hpp"
#include "spool/backend/persistent_queue.hpp"
#include "spool/error.hpp"

namespace {

using namespace std::chrono_literals;
using spool::backend::ExecResult;
using spool::backend::PackedItem;
using spool::backend::PersistentQueue;
using spool::backend::QueueOptions;
using spool::test::SimArgs;
using spool::test::SimDevice;
using spool::test::SimKernel;
using Clock = std::chrono::steady_clock;

struct FakeClock {
  Clock::time_point t{};
  void advance(std::chrono::microseconds d) { t += d; }
};

// Runs counted per (id, index) and by whom.
struct Ledger {
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> runs;
  std::vector<std::uint32_t> order;  // ids in the order their first index ran
  int by_fallback = 0;
  void run(const SimArgs& a, std::uint32_t begin, std::uint32_t end, bool fallback) {
    if (begin == 0) order.push_back(a.id);
    for (std::uint32_t i = begin; i < end; ++i) ++runs[{a.id, i}];
    if (fallback) ++by_fallback;
  }
  int count(std::uint32_t id, std::uint32_t i) const {
    auto it = runs.find({id, i});
    return it == runs.end() ? 0 : it->second;
  }
};

// A batch of items with ids [first, first + n), grid `grid` each.
struct TestBatch {
  std::vector<SimArgs> args;
  std::vector<PackedItem> items;
  std::optional<ExecResult> result;
  TestBatch(std::uint32_t first, std::uint32_t n, std::uint32_t grid = 1) : args(n), items(n) {
    for (std::uint32_t i = 0; i < n; ++i) {
      args[i].id = first + i;
      items[i] = PackedItem{grid, i, reinterpret_cast<const std::byte*>(&args[i])};
    }
  }
  spool::backend::Completion done() {
    return [this](ExecResult&& r) { result = std::move(r); };
  }
};

struct Fixture {
  FakeClock clock;
  Ledger ledger;
  QueueOptions opts;
  std::unique_ptr<SimDevice> dev;
  std::unique_ptr<PersistentQueue> q;
  SimKernel k{"k"}, k2{"k2"};

  explicit Fixture(QueueOptions o = small()) : opts(o) {
    dev = std::make_unique<SimDevice>(opts.capacity, [this](const SimArgs& a, std::uint32_t b, std::uint32_t e,
                                                             bool fb) { ledger.run(a, b, e, fb); });
    q = std::make_unique<PersistentQueue>(dev->ring(), opts, *dev, [this] { return clock.t; }, false);
  }
  static QueueOptions small() {
    QueueOptions o;
    o.capacity = 8;
    o.watchdog_ms = 100;
    o.startup_ms = 1000;
    o.grace_ms = 50;
    o.park_us = 500;
    return o;
  }
  void submit(TestBatch& b, bool sequential = false, const SimKernel* kernel = nullptr) {
    q->submit(kernel ? *kernel : k, b.items, sequential, b.done());
  }
  void ticks(int n) {
    for (int i = 0; i < n; ++i) q->tick();
  }
};

TEST(PersistentQueue, BatchRunsEveryItemOnceAndCompletes) {
  Fixture f;
  TestBatch b(0, 5);
  f.submit(b);
  ASSERT_EQ(f.dev->launches.size(), 1u);
  EXPECT_TRUE(f.dev->launches[0]);
  f.ticks(2);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 5u);
  EXPECT_EQ(b.result->items_failed, 0u);
  EXPECT_FALSE(b.result->watchdog_fired);
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(f.ledger.count(i, 0), 1) << i;
}

TEST(PersistentQueue, BatchLargerThanRingWaitsHostSideAndRunsOnce) {
  Fixture f;  // 8 slots
  TestBatch b(0, 100);
  f.submit(b);  // never blocks
  EXPECT_FALSE(b.result);
  f.ticks(40);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 100u);
  for (std::uint32_t i = 0; i < 100; ++i) ASSERT_EQ(f.ledger.count(i, 0), 1) << i;
  EXPECT_EQ(f.q->stats().slots, 100u);
}

TEST(PersistentQueue, LargeGridIsSplitIntoChunksCoveringItExactlyOnce) {
  Fixture f;
  f.dev->chunk = 7;
  TestBatch b(0, 3, 30);  // 30 = 4 chunks of 7 + one of 2
  f.submit(b, true);
  f.ticks(20);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 3u);
  EXPECT_EQ(f.q->stats().slots, 15u);
  for (std::uint32_t id = 0; id < 3; ++id) {
    for (std::uint32_t i = 0; i < 30; ++i) ASSERT_EQ(f.ledger.count(id, i), 1) << id << "/" << i;
  }
}

TEST(PersistentQueue, SequentialItemsAndFirstItemOfEachBatchAreGated) {
  Fixture f;
  f.dev->chunk = 4;
  TestBatch a(0, 2, 8), b(10, 2, 8);
  f.submit(a, false);
  f.submit(b, true);
  // Slots: a0 (2 chunks), a1 (2), b0 (2), b1 (2): gates on a0's first chunk,
  // b0's and b1's first chunks; none on a1 (independent) or later chunks.
  std::vector<std::uint32_t> gated;
  for (std::uint32_t s = 0; s < 8; ++s) {
    const std::uint32_t* slot = f.dev->ring() + SPOOL_RING_CONTROL_WORDS + s * SPOOL_RING_SLOT_WORDS;
    if (slot[SPOOL_RING_FLAGS] & SPOOL_RING_FLAG_GATE) {
      gated.push_back(s);
      EXPECT_EQ(slot[SPOOL_RING_GATE_SEQ], s);
    }
  }
  EXPECT_EQ(gated, (std::vector<std::uint32_t>{0, 4, 6}));
  f.ticks(4);
  ASSERT_TRUE(a.result && b.result);
}

TEST(PersistentQueue, WatchdogIgnoresAClaimedItemUntilItsTimeIsUp) {
  Fixture f;
  TestBatch b(0, 4);
  b.args[1].stall = 1;
  f.submit(b);
  f.ticks(2);  // item 0 done, item 1 claimed and stuck
  f.clock.advance(99ms);
  f.ticks(1);
  EXPECT_EQ(f.q->stats().recoveries, 0u);
  EXPECT_FALSE(b.result);
  f.clock.advance(2ms);
  f.ticks(1);  // 101 ms after the claim was first seen
  EXPECT_EQ(f.q->stats().recoveries, 1u);
  ASSERT_TRUE(b.result);
  // The kernel stopped within the grace period (finishing item 1): items 2
  // and 3 were never claimed and ran by launches, in order, once.
  EXPECT_TRUE(b.result->watchdog_fired);
  EXPECT_EQ(b.result->items_run, 4u);
  EXPECT_EQ(b.result->items_failed, 0u);
  EXPECT_EQ(b.result->fallback_items, 2u);
  ASSERT_EQ(f.dev->fallbacks.size(), 1u);
  ASSERT_EQ(f.dev->fallbacks[0].size(), 2u);
  EXPECT_EQ(f.dev->fallbacks[0][0].index, 2u);
  EXPECT_EQ(f.dev->fallbacks[0][1].index, 3u);
  for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(f.ledger.count(i, 0), 1) << i;
}

TEST(PersistentQueue, KernelThatHasNotStartedGetsTheStartupAllowance) {
  Fixture f;
  f.dev->starts = false;  // e.g. compiling its pipeline
  TestBatch b(0, 3);
  f.submit(b);
  f.clock.advance(500ms);  // far past the watchdog, within start-up
  f.ticks(1);
  EXPECT_EQ(f.q->stats().recoveries, 0u);
  f.clock.advance(501ms);
  f.ticks(1);
  EXPECT_EQ(f.q->stats().recoveries, 1u);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 3u);
  EXPECT_EQ(b.result->fallback_items, 3u);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(f.ledger.count(i, 0), 1);
}

TEST(PersistentQueue, StartedKernelThatClaimsNothingIsAStall) {
  Fixture f;
  f.dev->claims = false;  // started (STARTED moved) but never claims
  TestBatch b(0, 2);
  f.submit(b);
  f.ticks(1);
  f.clock.advance(99ms);
  f.ticks(1);
  EXPECT_EQ(f.q->stats().recoveries, 0u);
  f.clock.advance(2ms);
  f.ticks(1);  // the watchdog applies, not the 1 s start-up allowance
  EXPECT_EQ(f.q->stats().recoveries, 1u);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 2u);
  EXPECT_EQ(b.result->fallback_items, 2u);
}

TEST(PersistentQueue, HungKernelFailsItsItemsRefusesWorkAndRecoversWhenItStops) {
  Fixture f;
  f.dev->stops_on_shutdown = false;
  TestBatch b(0, 4), later(10, 2);
  b.args[1].stall = 1;
  f.submit(b);
  f.submit(later);
  f.ticks(2);
  f.clock.advance(101ms);
  f.ticks(1);
  ASSERT_TRUE(b.result);
  ASSERT_TRUE(later.result);
  EXPECT_EQ(b.result->items_run, 1u);
  EXPECT_EQ(b.result->items_failed, 3u);
  EXPECT_NE(b.result->failure.find("did not stop"), std::string::npos) << b.result->failure;
  EXPECT_EQ(later.result->items_failed, 2u);
  EXPECT_EQ(f.q->stats().hangs, 1u);
  EXPECT_TRUE(f.q->hung());
  TestBatch refused(20, 1);
  try {
    f.submit(refused);
    FAIL() << "a hung device accepted work";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::device_lost);
    EXPECT_NE(std::string(e.what()).find("hung"), std::string::npos);
  }
  f.dev->stop();  // the stuck kernel finally ends
  EXPECT_FALSE(f.q->hung());
  TestBatch again(30, 3);
  f.submit(again);
  f.ticks(2);
  ASSERT_TRUE(again.result);
  EXPECT_EQ(again.result->items_run, 3u);
  for (std::uint32_t i = 30; i < 33; ++i) EXPECT_EQ(f.ledger.count(i, 0), 1);
  // Items reported failed never ran twice; items 2, 3 and the later batch never ran.
  EXPECT_EQ(f.ledger.count(2, 0), 0);
  EXPECT_EQ(f.ledger.count(10, 0), 0);
}

TEST(PersistentQueue, SequentialOrderHoldsThroughRecoveryAndFailureStopsTheChain) {
  Fixture f;
  f.dev->finish_stall_on_stop = false;  // stops, but item 1 is left unfinished
  TestBatch b(0, 5);
  b.args[1].stall = 1;
  f.submit(b, true);
  f.ticks(2);
  f.clock.advance(101ms);
  f.ticks(1);
  ASSERT_TRUE(b.result);
  // Item 1 was claimed and cut off: failed. Items 2..4 come after it in a
  // sequential batch: reported failed, never run.
  EXPECT_EQ(b.result->items_run, 1u);
  EXPECT_EQ(b.result->items_failed, 4u);
  EXPECT_TRUE(f.dev->fallbacks.empty());
  EXPECT_EQ(f.ledger.count(2, 0), 0);
  EXPECT_EQ(f.ledger.count(4, 0), 0);
}

TEST(PersistentQueue, SequentialRerunsKeepTheirOrderAndFlag) {
  Fixture f;
  TestBatch b(0, 6);
  b.args[0].stall = 1;
  f.submit(b, true);
  f.ticks(1);
  f.clock.advance(101ms);
  f.ticks(1);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 6u);
  ASSERT_EQ(f.dev->fallbacks.size(), 1u);
  EXPECT_TRUE(f.dev->fallback_sequential[0]);
  EXPECT_EQ(f.ledger.order, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(PersistentQueue, KernelThatRetiresIsResumedWithoutLosingItems) {
  Fixture f;
  f.dev->retire_every = 3;
  TestBatch b(0, 8);
  f.submit(b);
  f.ticks(10);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_run, 8u);
  EXPECT_GE(f.q->stats().relaunches, 2u);
  for (bool fresh : std::vector<bool>(f.dev->launches.begin() + 1, f.dev->launches.end())) EXPECT_FALSE(fresh);
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(f.ledger.count(i, 0), 1);
}

TEST(PersistentQueue, BudgetFaultIsReportedAsAFailedItem) {
  Fixture f;
  f.dev->budget_fault_next = true;
  TestBatch b(0, 2);
  f.submit(b);
  f.ticks(2);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(b.result->items_failed, 1u);
  EXPECT_NE(b.result->failure.find("loop budget"), std::string::npos);
}

TEST(PersistentQueue, IdleKernelParksAfterParkTimeAndRestartsOnDemand) {
  Fixture f;
  TestBatch a(0, 1);
  f.submit(a);
  f.ticks(2);
  EXPECT_TRUE(f.q->resident(f.k));
  f.clock.advance(400us);
  f.ticks(2);
  EXPECT_TRUE(f.q->resident(f.k));
  f.clock.advance(200us);
  f.ticks(3);
  EXPECT_FALSE(f.q->resident(f.k));
  EXPECT_EQ(f.q->stats().parks, 1u);
  TestBatch b(1, 1);
  f.submit(b);
  EXPECT_EQ(f.dev->launches.size(), 2u);  // submitting relaunched the parked kernel
  f.ticks(3);
  ASSERT_TRUE(b.result);  // (read before completion, this was an empty optional)
  EXPECT_FALSE(b.result->was_resident);
  EXPECT_EQ(b.result->items_run, 1u);
}

TEST(PersistentQueue, AnotherKernelParksTheResidentOneFirst) {
  Fixture f;
  TestBatch a(0, 2), b(10, 2);
  f.submit(a, false, &f.k);
  f.submit(b, false, &f.k2);
  f.ticks(4);
  ASSERT_TRUE(a.result && b.result);
  EXPECT_EQ(f.dev->launches, (std::vector<bool>{true, true}));
  EXPECT_TRUE(f.q->resident(f.k2));
}

TEST(PersistentQueue, DestructionCompletesEveryAcceptedBatch) {
  Fixture f;
  TestBatch a(0, 50);
  f.submit(a);
  f.q.reset();
  ASSERT_TRUE(a.result);
  EXPECT_EQ(a.result->items_run, 50u);
}

TEST(PersistentQueue, InvalidCapacityIsRejected) {
  QueueOptions o;
  o.capacity = 12;
  EXPECT_THROW(PersistentQueue::check(o), spool::Error);
  o.capacity = 1;
  EXPECT_THROW(PersistentQueue::check(o), spool::Error);
  o.capacity = 16;
  o.watchdog_ms = 0;
  EXPECT_THROW(PersistentQueue::check(o), spool::Error);
}

}  // namespace
