// The persistent queue's host bookkeeping over plain host memory, driven by a
// simulated device (host threads running the device loop's claim/complete
// protocol with the same atomics): publish/claim/reap, backpressure,
// revoke-by-CAS and exactly-once accounting.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cu_ring.hpp"

namespace {

using namespace spool::cuda;
namespace ops = spool::cuda::ringops;

// The device side of the protocol (kernels/cuda/wrap.cuh), on the host.
// Returns the claimed sequence number, or -1.
long claim(RingBook& b) {
  std::uint32_t* head = b.control(ring::kHead);
  std::uint32_t h = ops::load(head);
  const std::uint32_t t = ops::load(b.control(ring::kTail));
  if (static_cast<int>(t - h) <= 0) return -1;
  if (!std::atomic_ref<std::uint32_t>(*head).compare_exchange_strong(h, h + 1)) return -1;
  if (!ops::cas(b.slot(h) + ring::kStatus, ring::kPublished, ring::kClaimed)) return -1;
  return h;
}
void complete(RingBook& b, std::uint32_t seq) {
  ops::store(b.slot(seq) + ring::kStatus, ring::kDoneState);
  std::atomic_ref<std::uint32_t>(*b.control(ring::kDone)).fetch_add(1);
}

struct Fixture {
  std::vector<std::uint64_t> mem;
  RingBook book;
  std::vector<std::uint32_t> argv;
  std::vector<spool::backend::PackedItem> items;
  explicit Fixture(std::uint32_t cap, std::uint32_t n)
      : mem(RingBook::bytes_for(cap) / 8), book(reinterpret_cast<std::uint32_t*>(mem.data()), cap) {
    book.reset(1000);
    argv.resize(n * 2);
    for (std::uint32_t i = 0; i < n; ++i) {
      argv[2 * i] = i;
      items.push_back({i + 1, i, reinterpret_cast<const std::byte*>(&argv[2 * i])});
    }
  }
};

TEST(CudaRing, PublishClaimReapCompletesOnce) {
  Fixture f(4, 3);
  int completions = 0;
  spool::backend::ExecResult got;
  auto& t = f.book.add_tracker(nullptr, f.items, [&](spool::backend::ExecResult&& r) {
    ++completions;
    got = r;
  }, false);
  for (std::uint32_t i = 0; i < 3; ++i) f.book.publish(t, i, false, 8);
  EXPECT_EQ(f.book.outstanding(), 3u);
  EXPECT_EQ(ops::load(f.book.control(ring::kTail)), 3u);
  EXPECT_EQ(f.book.slot(1)[ring::kGrid], 2u);
  EXPECT_EQ(f.book.slot(1)[ring::kArgsWord], 1u);
  const long s0 = claim(f.book), s1 = claim(f.book);
  ASSERT_EQ(s0, 0);
  ASSERT_EQ(s1, 1);
  complete(f.book, 1);
  EXPECT_TRUE(f.book.reap());  // done counter moved, but slot 0 blocks in-order reaping
  EXPECT_EQ(f.book.outstanding(), 3u);
  complete(f.book, 0);
  f.book.reap();
  EXPECT_EQ(f.book.outstanding(), 1u);
  complete(f.book, static_cast<std::uint32_t>(claim(f.book)));
  f.book.reap();
  EXPECT_EQ(f.book.outstanding(), 0u);
  for (auto& [fn, r] : f.book.take_ready()) fn(std::move(r));
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(got.items_run, 3u);
  EXPECT_EQ(got.items_failed, 0u);
  EXPECT_EQ(f.book.live_trackers(), 0u);
}

TEST(CudaRing, FullRingAppliesBackpressureAndSlotsAreReused) {
  Fixture f(2, 5);
  auto& t = f.book.add_tracker(nullptr, f.items, [](spool::backend::ExecResult&&) {}, false);
  std::uint32_t pos = 0;
  while (pos < 5) {
    while (!f.book.full() && pos < 5) f.book.publish(t, pos++, false, 8);
    EXPECT_LE(f.book.outstanding(), 2u);
    const long s = claim(f.book);
    ASSERT_GE(s, 0);
    complete(f.book, static_cast<std::uint32_t>(s));
    f.book.reap();
  }
  while (f.book.outstanding() != 0) {
    complete(f.book, static_cast<std::uint32_t>(claim(f.book)));
    f.book.reap();
  }
  auto ready = f.book.take_ready();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].second.items_run, 5u);
}

TEST(CudaRing, RecoveryRevokesUnclaimedRerunsThemAndFailsClaimed) {
  Fixture f(8, 5);
  auto& t = f.book.add_tracker(nullptr, f.items, [](spool::backend::ExecResult&&) {}, false);
  for (std::uint32_t i = 0; i < 5; ++i) f.book.publish(t, i, false, 8);
  complete(f.book, static_cast<std::uint32_t>(claim(f.book)));  // item 0 done
  ASSERT_EQ(claim(f.book), 1);                                   // item 1 claimed, stalls
  f.book.set_shutdown(true);
  EXPECT_EQ(f.book.revoke_unclaimed(), 3u);
  EXPECT_EQ(claim(f.book), -1);  // the device loses the CAS on revoked slots
  auto rerun = f.book.account_outstanding(/*stopped=*/true);
  ASSERT_EQ(rerun.size(), 1u);
  ASSERT_EQ(rerun[0].items.size(), 3u);
  EXPECT_EQ(rerun[0].items[0].index, 2u);
  RingBook::credit_rerun(rerun[0], 3, nullptr);
  f.book.finish_recovery(true, 1000);
  EXPECT_EQ(f.book.outstanding(), 0u);
  auto ready = f.book.take_ready();
  ASSERT_EQ(ready.size(), 1u);
  const auto& r = ready[0].second;
  EXPECT_EQ(r.items_run, 4u);  // 1 by the queue + 3 re-run by launches
  EXPECT_EQ(r.fallback_items, 3u);
  EXPECT_EQ(r.items_failed, 1u);  // claimed, never finished: not re-run
  EXPECT_TRUE(r.watchdog_fired);
  EXPECT_NE(r.failure.find("claimed"), std::string::npos);
  EXPECT_EQ(ops::load(f.book.control(ring::kTail)), 0u);  // queue reset
}

TEST(CudaRing, NotStoppedFailsEverythingOutstanding) {
  Fixture f(8, 2);
  auto& t = f.book.add_tracker(nullptr, f.items, [](spool::backend::ExecResult&&) {}, false);
  f.book.publish(t, 0, false, 8);
  f.book.publish(t, 1, false, 8);
  f.book.revoke_unclaimed();
  EXPECT_TRUE(f.book.account_outstanding(/*stopped=*/false).empty());
  f.book.finish_recovery(false, 1000);
  auto ready = f.book.take_ready();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].second.items_failed, 2u);
  EXPECT_NE(ready[0].second.failure.find("did not stop"), std::string::npos);
}

// Four device "blocks" race for items while the host publishes, reaps and at
// a random point revokes: every item is accounted exactly once.
TEST(CudaRing, ExactlyOnceUnderFourClaimingThreads) {
  constexpr std::uint32_t kN = 4000;
  Fixture f(64, kN);
  std::vector<std::atomic<int>> ran(kN);
  std::atomic<bool> stop{false};
  auto& t = f.book.add_tracker(nullptr, f.items, [](spool::backend::ExecResult&&) {}, false);
  std::vector<std::thread> blocks;
  for (int b = 0; b < 4; ++b) {
    blocks.emplace_back([&] {
      while (!stop.load(std::memory_order_acquire)) {
        if (ops::load(f.book.control(ring::kShutdown)) != 0) break;
        const long s = claim(f.book);
        if (s < 0) continue;
        const std::uint32_t item = f.book.slot(static_cast<std::uint32_t>(s))[ring::kItem];
        ran[item].fetch_add(1);
        complete(f.book, static_cast<std::uint32_t>(s));
      }
    });
  }
  std::uint32_t pos = 0;
  while (pos < kN / 2) {
    if (!f.book.full()) f.book.publish(t, pos++, false, 8);
    f.book.reap();
  }
  f.book.set_shutdown(true);
  f.book.revoke_unclaimed();
  stop = true;
  for (auto& th : blocks) th.join();
  auto rerun = f.book.account_outstanding(true);
  for (auto& r : rerun) {
    for (const auto& it : r.items) ran[it.index].fetch_add(1);  // "launches"
    RingBook::credit_rerun(r, static_cast<std::uint32_t>(r.items.size()), nullptr);
  }
  f.book.finish_recovery(true, 1000);
  // The rest goes through a fresh queue with no device: revoke + re-run all.
  while (pos < kN) {
    while (!f.book.full() && pos < kN) f.book.publish(t, pos++, false, 8);
    f.book.revoke_unclaimed();
    for (auto& r : f.book.account_outstanding(true)) {
      for (const auto& it : r.items) ran[it.index].fetch_add(1);
      RingBook::credit_rerun(r, static_cast<std::uint32_t>(r.items.size()), nullptr);
    }
    f.book.finish_recovery(true, 1000);
  }
  auto ready = f.book.take_ready();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].second.items_run + ready[0].second.items_failed, kN);
  for (std::uint32_t i = 0; i < kN; ++i) ASSERT_EQ(ran[i].load(), 1) << "item " << i;
}

}  // namespace
