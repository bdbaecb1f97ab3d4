// Box 2: refill counts come from the policy table, excess goes back to the
// backend at the cap and at thread exit, and while the learner is on each
// (thread, class) keeps an observation window that becomes a RefillEvent.
#include "refill.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "backend.hpp"
#include "learner_api.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/stats.hpp"
#include "test_util.hpp"

namespace {

namespace d = spool::alloc::detail;
using spool::alloc::Option;
using spool::alloc::test::ScopedOption;

class Refill : public ::testing::Test {
 protected:
  void SetUp() override { spool::alloc::flush_thread_cache(); }
  void TearDown() override { spool::alloc::flush_thread_cache(); }
  spool::alloc::test::LearnerHeld held_;  // deterministic: nobody but the test consumes events
  ScopedOption learner_{Option::learner, 1};
  ScopedOption refill_{Option::refill, 0};
  ScopedOption cache_{Option::cache_kib, 256};
};

std::uint64_t offered() {
  const auto c = d::learner_counters();
  return c.pushed + c.dropped;
}

TEST_F(Refill, BatchSizeIsTheDefaultCountBeforeTheLearnerPublishes) {
  const unsigned cls = spool::alloc::class_of(200);
  const auto before = d::refill_counters(cls);
  void* p = spool::alloc::allocate(200);
  const auto after = d::refill_counters(cls);
  EXPECT_EQ(after.refills - before.refills, 1u);
  EXPECT_EQ(after.refilled_blocks - before.refilled_blocks, d::default_refill_count(cls));
  spool::alloc::deallocate(p);
}

TEST_F(Refill, FixedCountOptionOverridesThePolicyTable) {
  ScopedOption fixed(Option::refill, 7);
  const unsigned cls = spool::alloc::class_of(300);
  const auto before = d::refill_counters(cls);
  void* p = spool::alloc::allocate(300);
  EXPECT_EQ(d::refill_counters(cls).refilled_blocks - before.refilled_blocks, 7u);
  spool::alloc::deallocate(p);
}

TEST_F(Refill, CountIsClampedToTheLargestBatchInBytes) {
  ScopedOption fixed(Option::refill, 1000);
  ScopedOption batch(Option::max_batch_kib, 256);
  EXPECT_EQ(d::effective_refill_count(spool::alloc::class_of(65536)), 4u);
  EXPECT_EQ(d::effective_refill_count(spool::alloc::class_of(1 << 20)), 1u);
}

TEST_F(Refill, MissOnEmptyListCountsOneMiss) {
  const unsigned cls = spool::alloc::class_of(512);
  const auto before = d::refill_counters(cls);
  void* p = spool::alloc::allocate(512);
  EXPECT_EQ(d::refill_counters(cls).misses - before.misses, 1u);
  spool::alloc::deallocate(p);
}

TEST_F(Refill, ListPastItsCapReturnsHalfToTheBackend) {
  ScopedOption cache(Option::cache_kib, 1);  // cap = 16 blocks of 64 B
  spool::alloc::flush_thread_cache();
  const unsigned cls = spool::alloc::class_of(64);
  std::vector<void*> v;
  for (int i = 0; i < 200; ++i) v.push_back(spool::alloc::allocate(64));
  const auto before = d::refill_counters(cls);
  const auto depot_before = d::backend_class_counters(cls).depot_blocks;
  for (void* p : v) spool::alloc::deallocate(p);
  EXPECT_GT(d::refill_counters(cls).flushes - before.flushes, 5u);
  EXPECT_GE(d::backend_class_counters(cls).depot_blocks - depot_before, 150u);
}

TEST_F(Refill, ACapDoublesForAThreadThatCyclesThroughWholeBatchesUpToEightTimes) {
  ScopedOption cache(Option::cache_kib, 1);  // cap = 16 blocks of 64 B
  spool::alloc::flush_thread_cache();
  const unsigned cls = spool::alloc::class_of(64);
  std::vector<void*> v;
  auto cycle = [&](int n) {  // allocate n, free n: returns the flushes it caused
    const auto before = d::refill_counters(cls).flushes;
    for (int i = 0; i < n; ++i) v.push_back(spool::alloc::allocate(64));
    for (void* p : v) spool::alloc::deallocate(p);
    v.clear();
    return d::refill_counters(cls).flushes - before;
  };
  for (int i = 0; i < 6; ++i) cycle(100);  // 16 -> 32 -> 64 -> 128
  EXPECT_EQ(cycle(100), 0u);  // a cycle of 100 now stays with the thread
  EXPECT_GT(cycle(1000), 0u);  // the cap stops at 8 x 16 = 128
}

TEST_F(Refill, AProducerOrAConsumerAloneKeepsItsCap) {
  ScopedOption cache(Option::cache_kib, 1);  // cap = 16 blocks of 64 B
  spool::alloc::flush_thread_cache();
  const unsigned cls = spool::alloc::class_of(64);
  // Blocks allocated elsewhere and only freed here: the list never runs
  // empty in between, so every 8 frees past the cap go back to the depot
  // (after the first 8, which are held aside: this thread never allocated
  // from the class).
  std::vector<void*> v;
  std::thread([&] {
    for (int i = 0; i < 400; ++i) v.push_back(spool::alloc::allocate(64));
  }).join();
  const auto before = d::refill_counters(cls).flushes;
  for (void* p : v) spool::alloc::deallocate(p);
  EXPECT_EQ(d::refill_counters(cls).flushes - before, (400u - 8u - 16u) / 8u);
}

TEST_F(Refill, AMediumClassListHoldsAtLeastOneBlockAndAtMostItsByteCap) {
  const unsigned cls = spool::alloc::class_of(512 * 1024);
  std::vector<void*> v;
  for (int i = 0; i < 4; ++i) v.push_back(spool::alloc::allocate(512 * 1024));
  const auto before = d::backend_class_counters(cls).depot_blocks;
  for (void* p : v) spool::alloc::deallocate(p);
  // 256 KiB cache: one 512 KiB block stays with the thread, three go back.
  EXPECT_EQ(d::backend_class_counters(cls).depot_blocks - before, 3u);
  void* again = spool::alloc::allocate(512 * 1024);
  EXPECT_EQ(again, v.back());  // the one the thread kept
  spool::alloc::deallocate(again);
}

TEST_F(Refill, ThreadExitReturnsEveryCachedBlock) {
  const unsigned cls = spool::alloc::class_of(700);
  std::thread([] {
    std::vector<void*> v;
    for (int i = 0; i < 500; ++i) v.push_back(spool::alloc::allocate(700));
    for (void* p : v) spool::alloc::deallocate(p);
  }).join();
  // Nothing of this class is live or cached any more: all of it is in the depot.
  const auto c = d::backend_class_counters(cls);
  EXPECT_GE(c.carved_blocks, 500u);
  EXPECT_EQ(c.depot_blocks, c.carved_blocks);
}

TEST_F(Refill, ThreadExitReportsTheWindowsOfClassesItTookAtLeastFourBatchesOf) {
  d::set_window_cycles(std::uint64_t{1} << 62);  // windows never close on their own
  const std::uint64_t before = offered();
  std::thread([] {
    std::vector<void*> v;
    // 16 classes of 4 fixed-count batches (32 blocks each) or more: 16 open
    // windows worth reporting, closed at exit.
    for (std::size_t size = 16; size <= 256; size += 16) {
      for (int i = 0; i < 4 * 32; ++i) v.push_back(spool::alloc::allocate(size));
    }
    // 48 classes of one batch: a thread that needs this little of a class
    // says nothing about its count; these windows are dropped.
    for (std::size_t size = 272; size <= 1024; size += 16) {
      spool::alloc::deallocate(spool::alloc::allocate(size));
    }
    for (void* p : v) spool::alloc::deallocate(p);
  }).join();
  EXPECT_EQ(offered() - before, 16u);
  EXPECT_EQ(d::learner_drain(), 16u);
}

TEST_F(Refill, AWindowClosesAtTheFirstTimedRefillAfterItsLength) {
  d::set_window_cycles(1);  // every window is long enough at once
  ScopedOption fixed(Option::refill, 2);
  const std::uint64_t before = offered();
  std::vector<void*> v;
  // 2 blocks per refill: 20 refills. Refill 1 opens a window (timed), 2 and
  // 3 are counted untimed, 4 is timed and closes it (an event) and opens the
  // next: events at refills 4, 7, 10, 13, 16 and 19.
  for (int i = 0; i < 40; ++i) v.push_back(spool::alloc::allocate(900));
  EXPECT_EQ(offered() - before, 6u);
  EXPECT_EQ(d::learner_drain(), 6u);
  for (void* p : v) spool::alloc::deallocate(p);
}

TEST_F(Refill, NoEventsArePushedForAClassTheLearnerStoodDownOn) {
  d::set_window_cycles(1);
  const unsigned cls = spool::alloc::class_of(800);
  // Scripted: the class spends 10 % of its time refilling whatever the
  // count; after a judging period the learner stands down there.
  for (int i = 0; i < 8 * 40; ++i) {
    d::RefillEvent e{};
    e.cls = static_cast<std::uint8_t>(cls);
    e.count = static_cast<std::uint16_t>(d::refill_count(cls));
    e.refills = 4;
    e.slow_cycles = 100'000;
    e.window_cycles = 1'000'000;
    ASSERT_TRUE(d::push_event(e));
    ASSERT_EQ(d::learner_drain(), 1u);
  }
  ASSERT_EQ(d::learner_class_state(cls), 2u);
  ASSERT_EQ(d::learner_observes(cls), d::kObserveNone);
  const std::uint64_t before = offered();
  std::vector<void*> v;
  for (int i = 0; i < 400; ++i) v.push_back(spool::alloc::allocate(800));
  std::thread([] { spool::alloc::deallocate(spool::alloc::allocate(800)); }).join();
  EXPECT_EQ(offered(), before);
  EXPECT_EQ(d::learner_observes(spool::alloc::class_of(900)), d::kObserveAll);  // others still observed
  for (void* p : v) spool::alloc::deallocate(p);
}

TEST_F(Refill, AWatchedClassOpensAWindowAtOneRefillInEight) {
  d::set_window_cycles(1);
  ScopedOption fixed(Option::refill, 2);
  const unsigned watched = spool::alloc::class_of(600);
  const unsigned learned = spool::alloc::class_of(700);
  // Scripted: 1 % of the time refilling under the fixed count: the learner
  // only watches that class.
  for (int i = 0; i < 8; ++i) {
    d::RefillEvent e{};
    e.cls = static_cast<std::uint8_t>(watched);
    e.count = static_cast<std::uint16_t>(d::refill_count(watched));
    e.refills = 4;
    e.slow_cycles = 10'000;
    e.window_cycles = 1'000'000;
    ASSERT_TRUE(d::push_event(e));
  }
  ASSERT_EQ(d::learner_drain(), 8u);
  ASSERT_EQ(d::learner_class_state(watched), 3u);
  ASSERT_EQ(d::learner_observes(watched), d::kObserveSparse);
  auto events_for = [](std::size_t size) {
    const std::uint64_t before = offered();
    std::vector<void*> v;
    for (int i = 0; i < 960; ++i) v.push_back(spool::alloc::allocate(size));  // 480 refills
    for (void* p : v) spool::alloc::deallocate(p);
    const std::uint64_t n = offered() - before;
    d::learner_drain();
    return n;
  };
  // Learned: a window opens at once and closes every 3 refills (~160 events).
  // Watched: after each window one refill in eight opens the next, so about
  // one event per 3 + 8 refills (~45).
  const std::uint64_t all = events_for(700);
  const std::uint64_t sparse = events_for(600);
  EXPECT_EQ(d::learner_observes(learned), d::kObserveAll);
  EXPECT_GE(all, 150u);
  EXPECT_GE(sparse, 20u);
  EXPECT_LE(sparse * 3, all);
}

TEST_F(Refill, NoEventsArePushedWhenTheLearnerIsOff) {
  ScopedOption off(Option::learner, 0);
  d::set_window_cycles(1);
  const std::uint64_t before = offered();
  std::vector<void*> v;
  for (int i = 0; i < 400; ++i) v.push_back(spool::alloc::allocate(444));
  std::thread([] { spool::alloc::deallocate(spool::alloc::allocate(444)); }).join();
  EXPECT_EQ(offered(), before);
  for (void* p : v) spool::alloc::deallocate(p);
}

// Passive false sharing (Hoard's cache-scratch): a thread that frees another
// thread's small block before it ever allocated from the class must not get
// that block back for its own next allocation, nor a block of its line.
TEST_F(Refill, ThreadDoesNotReuseAForeignBlockItFreedBeforeAllocating) {
  const unsigned cls = spool::alloc::class_of(8);
  void* a = spool::alloc::allocate(8);
  void* b = spool::alloc::allocate(8);
  const auto before = d::backend_class_counters(cls);
  void* got = nullptr;
  std::thread([&] {
    spool::alloc::deallocate(a);
    got = spool::alloc::allocate(8);
    spool::alloc::deallocate(got);
  }).join();
  const auto after = d::backend_class_counters(cls);
  const auto line = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) / 64; };
  EXPECT_NE(got, a);
  EXPECT_NE(line(got), line(a));
  EXPECT_NE(line(got), line(b));
  // At exit the held-aside block went back with the thread's list: the depot
  // gained everything carved for the thread plus that one block.
  EXPECT_EQ(after.depot_blocks - before.depot_blocks, after.carved_blocks - before.carved_blocks + 1);
  spool::alloc::deallocate(b);
}

// A pure consumer holds only the first few foreign blocks aside; after that
// what it frees is cached (and flushed in batches) as before.
TEST_F(Refill, PureConsumerCachesFreesAfterTheFirstFewHeldAside) {
  const unsigned cls = spool::alloc::class_of(64);
  std::vector<void*> v;
  for (int i = 0; i < 40; ++i) v.push_back(spool::alloc::allocate(64));
  std::uint32_t cached = 0;
  std::thread([&] {
    for (void* p : v) spool::alloc::deallocate(p);
    std::vector<void*> popped;
    for (void* p = d::pop(cls); p != nullptr; p = d::pop(cls)) popped.push_back(p);
    cached = static_cast<std::uint32_t>(popped.size());
    for (void* p : popped) spool::alloc::deallocate(p);
  }).join();
  EXPECT_EQ(cached, 40u - 8u);
}

// A list that cycles through whole batches (its cap has doubled) refills
// more than the count at a time: whole depot chains of the count, gathered.
TEST_F(Refill, ACyclingListRefillsSeveralCountsAtATime) {
  ScopedOption cache(Option::cache_kib, 1);  // cap 16 blocks of 64 B, up to 32x
  ScopedOption fixed(Option::refill, 4);
  spool::alloc::flush_thread_cache();
  const unsigned cls = spool::alloc::class_of(64);
  std::vector<void*> v(600);
  const auto cycle = [&v] {
    for (auto& p : v) p = spool::alloc::allocate(64);
    for (void* p : v) spool::alloc::deallocate(p);
  };
  for (int i = 0; i < 4; ++i) cycle();  // the cap doubles once per cycle
  const auto before = d::refill_counters(cls);
  cycle();
  const auto after = d::refill_counters(cls);
  const std::uint64_t refills = after.refills - before.refills;
  ASSERT_GT(refills, 0u);
  EXPECT_GE((after.refilled_blocks - before.refilled_blocks) / refills, 16u);
  // Without the cycling (a list that never ran empty and full in turn)
  // refills stay at the count.
  std::thread([cls] {
    const auto b = d::refill_counters(cls);
    void* p = spool::alloc::allocate(64);
    const auto a = d::refill_counters(cls);
    EXPECT_EQ(a.refilled_blocks - b.refilled_blocks, 4u);
    spool::alloc::deallocate(p);
  }).join();
}

}  // namespace
