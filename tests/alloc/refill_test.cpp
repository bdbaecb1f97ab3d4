// Box 2: refill counts come from the policy table, excess goes back to the
// backend at the cap and at thread exit, every refill becomes an event.
#include "refill.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "backend.hpp"
#include "learner_api.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/stats.hpp"

namespace {

namespace d = spool::alloc::detail;
using spool::alloc::Option;

class Refill : public ::testing::Test {
 protected:
  void SetUp() override {
    d::learner_stop();  // deterministic: nobody but the test consumes events
    d::learner_reset();
    spool::alloc::set_option(Option::refill, 0);
    spool::alloc::set_option(Option::cache_kib, 256);
    spool::alloc::flush_thread_cache();
  }
};

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
  spool::alloc::set_option(Option::refill, 7);
  const unsigned cls = spool::alloc::class_of(300);
  const auto before = d::refill_counters(cls);
  void* p = spool::alloc::allocate(300);
  EXPECT_EQ(d::refill_counters(cls).refilled_blocks - before.refilled_blocks, 7u);
  spool::alloc::deallocate(p);
}

TEST_F(Refill, CountIsClampedToTheLargestBatchInBytes) {
  spool::alloc::set_option(Option::refill, 1000);
  spool::alloc::set_option(Option::max_batch_kib, 256);
  EXPECT_EQ(d::effective_refill_count(spool::alloc::class_of(65536)), 4u);
  spool::alloc::set_option(Option::refill, 0);
}

TEST_F(Refill, MissOnEmptyListCountsOneMiss) {
  const unsigned cls = spool::alloc::class_of(512);
  const auto before = d::refill_counters(cls);
  void* p = spool::alloc::allocate(512);
  EXPECT_EQ(d::refill_counters(cls).misses - before.misses, 1u);
  spool::alloc::deallocate(p);
}

TEST_F(Refill, ListPastItsCapReturnsHalfToTheBackend) {
  spool::alloc::set_option(Option::cache_kib, 1);  // cap = 16 blocks of 64 B
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

TEST_F(Refill, ThreadExitReportsBatchesThatNeverRanDry) {
  spool::alloc::set_option(Option::refill, 32);
  std::thread([] {
    // 64 classes, one refill each, then 64 batches abandoned at exit:
    // 128 candidates, one in 16 sampled.
    for (std::size_t size = 16; size <= 1024; size += 16) {
      spool::alloc::deallocate(spool::alloc::allocate(size));
    }
  }).join();
  EXPECT_EQ(d::learner_drain(), 8u);
}

TEST_F(Refill, NoEventsArePushedWhenTheLearnerIsOff) {
  spool::alloc::set_option(Option::learner, 0);
  const auto before = d::learner_counters();
  void* p = spool::alloc::allocate(444);
  const auto after = d::learner_counters();
  EXPECT_EQ(after.pushed + after.dropped, before.pushed + before.dropped);
  spool::alloc::deallocate(p);
  spool::alloc::set_option(Option::learner, 1);
}

TEST_F(Refill, OneRefillInSixteenPushesAnEvent) {
  const auto before = d::learner_counters();
  spool::alloc::set_option(Option::refill, 2);
  std::vector<void*> v;
  for (int i = 0; i < 80; ++i) v.push_back(spool::alloc::allocate(900));  // 40 refills
  const auto after = d::learner_counters();
  EXPECT_EQ(after.pushed + after.dropped - before.pushed - before.dropped, 2u);  // 1 in 16
  EXPECT_EQ(d::learner_drain(), 2u);
  for (void* p : v) spool::alloc::deallocate(p);
}

}  // namespace
