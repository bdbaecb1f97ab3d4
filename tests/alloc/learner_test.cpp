// Box 3: the MPSC ring drops when full and never blocks; the learner turns
// events into published refill counts.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "event_ring.hpp"
#include "learner_api.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/size_class.hpp"
#include "spool/alloc/stats.hpp"

namespace {

namespace d = spool::alloc::detail;

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
    e.since_last_ns = i;
    ASSERT_TRUE(ring.push(e));
    d::RefillEvent out{};
    ASSERT_TRUE(ring.pop(out));
    EXPECT_EQ(out.since_last_ns, i);
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
      while (ring.pop(e)) got.insert(e.since_last_ns);
      if (finished) break;
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([t, &done] {
      for (std::uint64_t i = 0; i < kPer; ++i) {
        d::RefillEvent e{};
        e.since_last_ns = static_cast<std::uint64_t>(t) * kPer + i + 1;
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
  void SetUp() override {
    d::learner_stop();
    d::learner_reset();
  }
  // Simulates refills of class cls whose blocks each last `per_block_ns`.
  static void feed(unsigned cls, std::uint64_t per_block_ns, int events) {
    for (int i = 0; i < events; ++i) {
      d::RefillEvent e{};
      e.cls = static_cast<std::uint8_t>(cls);
      e.count = static_cast<std::uint16_t>(d::refill_count(cls));
      e.since_last_ns = per_block_ns * e.count;
      ASSERT_TRUE(d::push_event(e));
      d::learner_drain();
    }
  }
};

TEST_F(Learner, RaisesTheCountWhenBatchesRunOutFast) {
  const unsigned cls = 0;  // 16 B
  const auto before = d::refill_count(cls);
  feed(cls, 200, 3000);  // 0.2 us per block: far below the 200 us target
  EXPECT_GT(d::refill_count(cls), before);
  EXPECT_GE(d::refill_count(cls), 64u);
  EXPECT_GT(d::learner_counters().decisions, 0u);
}

TEST_F(Learner, LowersTheCountAgainWhenBatchesStartToLastLong) {
  const unsigned cls = spool::alloc::class_of(1024);
  feed(cls, 200, 3000);
  const auto high = d::refill_count(cls);
  EXPECT_GT(high, d::default_refill_count(cls));
  feed(cls, 1'000'000'000, 6000);  // batches last seconds: only memory matters now
  EXPECT_LT(d::refill_count(cls), high);
}

TEST_F(Learner, IgnoresFirstRefillsAndUnknownClasses) {
  d::RefillEvent e{};
  e.cls = 200;
  e.count = 8;
  e.since_last_ns = 5;
  d::push_event(e);
  e.cls = 3;
  e.since_last_ns = 0;
  d::push_event(e);
  EXPECT_EQ(d::learner_drain(), 2u);
  EXPECT_EQ(d::refill_count(3), d::default_refill_count(3));
}

TEST(LearnerThread, StartsLazilyFromARefillAndStopsCleanly) {
  if (spool::alloc::option(spool::alloc::Option::learner) == 0) GTEST_SKIP() << "learner disabled";
  std::vector<void*> v;
  for (int i = 0; i < 100; ++i) v.push_back(spool::alloc::allocate(48));
  EXPECT_TRUE(spool::alloc::stats().learner_running);
  d::learner_stop();
  EXPECT_FALSE(spool::alloc::stats().learner_running);
  for (int i = 0; i < 1000; ++i) v.push_back(spool::alloc::allocate(48));  // never restarts
  EXPECT_FALSE(spool::alloc::stats().learner_running);
  for (void* p : v) spool::alloc::deallocate(p);
}

}  // namespace
