// Box 3: the MPSC ring drops when full and never blocks; the learner turns
// scripted observation windows into published refill counts (deterministic:
// the learner thread is held back and the test drains the ring itself), stands
// down where no count helps, and its thread starts lazily and can be stopped
// and started again.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>
#include <vector>

#include "event_ring.hpp"
#include "learner_api.hpp"
#include "refill.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/size_class.hpp"
#include "spool/alloc/stats.hpp"
#include "test_util.hpp"

namespace {

namespace d = spool::alloc::detail;
using spool::alloc::Option;

TEST(EventRing, DropsAndCountsWhenFull) {
  d::MpscRing<d::RefillEvent, 8> ring;
  d::RefillEvent e{};
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(ring.push(e));
  EXPECT_FALSE(ring.push(e));
  EXPECT_EQ(ring.dropped(), 1u);
  EXPECT_TRUE(ring.pop(e));
  EXPECT_TRUE(ring.push(e));
  EXPECT_EQ(ring.pushed(), 9u);
}

TEST(EventRing, CopiesEventsOutInOrder) {
  d::MpscRing<d::RefillEvent, 16> ring;
  for (std::uint64_t i = 1; i <= 40; ++i) {
    d::RefillEvent e{};
    e.window_cycles = i;
    ASSERT_TRUE(ring.push(e));
    d::RefillEvent out{};
    ASSERT_TRUE(ring.pop(out));
    EXPECT_EQ(out.window_cycles, i);
  }
  d::RefillEvent out{};
  EXPECT_FALSE(ring.pop(out));
}

TEST(EventRing, EveryEventIsDeliveredOnceOrCountedAsDroppedUnderContention) {
  static d::MpscRing<d::RefillEvent, 256> ring;
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPer = 20000;
  std::atomic<int> done{0};
  std::set<std::uint64_t> got;
  std::thread consumer([&] {
    d::RefillEvent e{};
    for (;;) {
      const bool finished = done.load() == kThreads;
      while (ring.pop(e)) got.insert(e.window_cycles);
      if (finished) break;
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([t, &done] {
      for (std::uint64_t i = 0; i < kPer; ++i) {
        d::RefillEvent e{};
        e.window_cycles = static_cast<std::uint64_t>(t) * kPer + i + 1;
        ring.push(e);
      }
      done.fetch_add(1);
    });
  }
  for (auto& p : producers) p.join();
  consumer.join();
  EXPECT_EQ(got.size() + ring.dropped(), kThreads * kPer);
  EXPECT_EQ(ring.pushed(), got.size());
}

class Learner : public ::testing::Test {
 protected:
  spool::alloc::test::LearnerHeld held_;

  // Pushes `windows` observation windows of class cls, each under the count
  // published at that moment: 10 refills costing refill_ns(count) each, a
  // `busy` share of the window. Drains after each so the learner reacts as
  // it goes. Cycles are converted with the learner's rate before calibration
  // (2 cycles per ns: the thread is held back, nothing calibrates).
  static void feed(unsigned cls, int windows, double (*refill_ns)(double count), double busy) {
    for (int i = 0; i < windows; ++i) {
      d::RefillEvent e{};
      e.cls = static_cast<std::uint8_t>(cls);
      e.count = static_cast<std::uint16_t>(d::refill_count(cls));
      e.refills = 10;
      e.slow_cycles = static_cast<std::uint64_t>(10 * refill_ns(e.count) * 2);
      e.window_cycles = static_cast<std::uint64_t>(static_cast<double>(e.slow_cycles) / busy);
      ASSERT_TRUE(d::push_event(e));
      ASSERT_EQ(d::learner_drain(), 1u);
    }
  }
  // A producer: ~200 ns per refill whatever its size.
  static double producer(double /*count*/) { return 200.0; }
  // Every block costs the same 3 ns whatever the count: nothing to gain.
  static double flat(double count) { return 3.0 * count; }
};

TEST_F(Learner, RaisesTheCountForAThreadThatRefillsConstantly) {
  const unsigned cls = spool::alloc::class_of(64);
  ASSERT_EQ(d::refill_count(cls), 32u);
  feed(cls, 4000, producer, 0.2);
  // Control epochs publish the default one epoch in eight: look at the
  // learner's own choices over a stretch.
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 200; ++i) {
    feed(cls, 1, producer, 0.2);
    seen.insert(d::refill_count(cls));
  }
  EXPECT_GE(*seen.rbegin(), 128u);
  EXPECT_EQ(d::learner_class_state(cls), 1u);
  EXPECT_GT(d::learner_counters().decisions, 0u);
  EXPECT_EQ(spool::alloc::stats().classes[cls].learner_state, 1);
}

TEST_F(Learner, StandsDownAndKeepsTheFixedCountWhereNoCountHelps) {
  const unsigned cls = spool::alloc::class_of(200);
  const std::uint32_t fixed = d::default_refill_count(cls);
  feed(cls, 8 * 40, flat, 0.1);
  EXPECT_EQ(d::learner_class_state(cls), 2u);
  EXPECT_EQ(d::refill_count(cls), fixed);
  const auto s = spool::alloc::stats();
  EXPECT_EQ(s.learner_stood_down, 1u);
  EXPECT_EQ(s.learner_stand_downs, 1u);
  EXPECT_EQ(s.classes[cls].learner_state, 2);
  // Standing down (64 epochs the first time), it publishes nothing else even
  // when a count would help.
  feed(cls, 8 * 50, producer, 0.2);
  EXPECT_EQ(d::refill_count(cls), fixed);
}

TEST_F(Learner, IgnoresUnknownClassesEmptyWindowsAndSingleCountClasses) {
  d::RefillEvent e{};
  e.cls = 200;  // no such class
  e.count = 8;
  e.window_cycles = 5;
  d::push_event(e);
  e.cls = 3;
  e.window_cycles = 0;  // empty window
  d::push_event(e);
  EXPECT_EQ(d::learner_drain(), 2u);
  EXPECT_EQ(d::learner_class_state(3), 0u);
  // A 1 MiB block: only one count fits a 256 KiB batch.
  const unsigned big = spool::alloc::class_of(1 << 20);
  feed(big, 500, producer, 0.2);
  EXPECT_EQ(d::refill_count(big), d::default_refill_count(big));
  EXPECT_EQ(d::learner_counters().decisions, 0u);
}

TEST_F(Learner, ANewThreadRampsUpFromTheFixedCountToTheLearnedOne) {
  spool::alloc::test::ScopedOption fixed(Option::refill, 0);
  const unsigned cls = spool::alloc::class_of(1500);
  const std::uint32_t base = d::default_refill_count(cls);
  for (int i = 0; i < 20'000 && d::refill_count(cls) < 4 * base; ++i) feed(cls, 1, producer, 0.2);
  const std::uint32_t target = d::refill_count(cls);
  ASSERT_GE(target, 4 * base);  // learned (the learner is held: it stays published)
  std::vector<std::uint64_t> batches;
  std::thread([&] {
    std::vector<void*> v;
    for (int i = 0; i < 6; ++i) {
      const auto before = d::refill_counters(cls);
      // Exactly empties the list the refill fills (its first block is returned).
      const std::uint64_t got = [&] {
        v.push_back(spool::alloc::allocate(1500));
        return d::refill_counters(cls).refilled_blocks - before.refilled_blocks;
      }();
      batches.push_back(got);
      for (std::uint64_t k = 1; k < got; ++k) v.push_back(spool::alloc::allocate(1500));
    }
    for (void* p : v) spool::alloc::deallocate(p);
  }).join();
  // The first refill takes the fixed count, each later one twice the one
  // before, until the learned count: a short-lived thread carves no more
  // than it would without the learner.
  std::uint64_t want = base;
  for (const std::uint64_t got : batches) {
    EXPECT_EQ(got, want);
    want = want * 2 < target ? want * 2 : target;
  }
}

TEST(LearnerThread, StartsLazilyFromARefillStopsAndCanBeStartedAgainAfterAReset) {
  if (spool::alloc::option(Option::learner) == 0) GTEST_SKIP() << "learner disabled";
  d::learner_reset();
  std::vector<void*> v;
  spool::alloc::flush_thread_cache();
  for (int i = 0; i < 100; ++i) v.push_back(spool::alloc::allocate(48));
  EXPECT_TRUE(spool::alloc::stats().learner_running);
  d::learner_stop();
  EXPECT_FALSE(spool::alloc::stats().learner_running);
  for (int i = 0; i < 1000; ++i) v.push_back(spool::alloc::allocate(48));  // stopped stays stopped
  EXPECT_FALSE(spool::alloc::stats().learner_running);
  d::learner_reset();  // tests (and only tests) may start it again
  for (int i = 0; i < 1000; ++i) v.push_back(spool::alloc::allocate(48));
  EXPECT_TRUE(spool::alloc::stats().learner_running);
  for (void* p : v) spool::alloc::deallocate(p);
}

}  // namespace
