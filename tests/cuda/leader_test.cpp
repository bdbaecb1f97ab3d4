// The CUDA persistent loop's leader (spool/cuda/ring_leader.hpp), the code
// every block's thread 0 runs on the GPU, run on the host: first alone over a
// hand-built ring (claim order, SHUTDOWN/PARK, gates from the DONE mirror,
// resume vs fresh, bus reads while idle), then as threads standing for
// blocks under the core's PersistentQueue (exactly-once, chunks, sequential
// order, a stalled item recovered by the watchdog).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "host_blocks.hpp"

namespace {

using namespace spool;
using spool::cuda::ring::Claim;
using spool::cuda::ring::kDctlDone;
using spool::cuda::ring::kDctlDoneCount;
using spool::cuda::ring::kDctlRunning;
using spool::cuda::ring::kDctlTailSeen;
using test::HostBlocks;
using test::HostLeader;
using test::HostMem;

constexpr std::uint32_t tag(std::uint32_t seq) { return SPOOL_RING_TAG(seq); }

// A ring of `cap` slots and its device control block, written as the core's
// queue and the CUDA driver write them.
struct Ring {
  std::uint32_t cap;
  std::vector<std::uint32_t> words;
  std::vector<std::uint32_t> dctl;
  explicit Ring(std::uint32_t capacity, std::uint32_t idle_limit = 1u << 20)
      : cap(capacity),
        words(backend::PersistentQueue::ring_bytes(capacity) / 4, 0),
        dctl(cuda::ring::dctl_words(capacity), 0) {
    words[SPOOL_RING_CAPACITY] = cap;
    words[SPOOL_RING_IDLE_LIMIT] = idle_limit;
  }
  std::uint32_t* slot(std::uint32_t seq) {
    return words.data() + SPOOL_RING_CONTROL_WORDS + (seq & (cap - 1)) * SPOOL_RING_SLOT_WORDS;
  }
  std::uint32_t* state(std::uint32_t seq) {
    return words.data() + SPOOL_RING_CONTROL_WORDS + cap * SPOOL_RING_SLOT_WORDS +
           (seq & (cap - 1)) * SPOOL_RING_STATE_WORDS;
  }
  void publish(std::uint32_t seq, bool gate, std::uint32_t item = 0) {
    std::uint32_t* s = slot(seq);
    s[SPOOL_RING_BEGIN] = 0;
    s[SPOOL_RING_END] = 1;
    s[SPOOL_RING_ITEM] = item;
    s[SPOOL_RING_FLAGS] = gate ? SPOOL_RING_FLAG_GATE : 0u;
    s[SPOOL_RING_GATE_SEQ] = seq;
    s[SPOOL_RING_SEQTAG] = tag(seq);
    words[SPOOL_RING_TAIL] = seq + 1;
  }
  HostLeader leader(std::uint32_t blocks = 1) {
    HostLeader l;
    l.init(words.data(), dctl.data(), blocks);
    return l;
  }
};

// Runs `f` when the leader backs off for the `n`-th time on this thread.
struct PauseHook {
  explicit PauseHook(std::function<void(std::uint64_t)> f) {
    HostMem::pauses = 0;
    HostMem::pause_hook = [f = std::move(f)] { f(HostMem::pauses); };
  }
  ~PauseHook() { HostMem::pause_hook = nullptr; }
};

TEST(CudaLeader, ClaimsPublishedSlotsInOrderAndMarksClaimDoneAndMirror) {
  Ring r(4);
  r.publish(0, false, 7);
  r.publish(1, false, 8);
  HostLeader l = r.leader();
  l.enter();
  EXPECT_EQ(r.words[SPOOL_RING_STARTED], 1u);
  EXPECT_EQ(r.dctl[kDctlRunning], 1u);
  EXPECT_EQ(r.words[SPOOL_RING_RUNNING], 0u);  // the ring only ever sees loads and stores
  const Claim a = l.next();
  ASSERT_TRUE(a.run);
  EXPECT_EQ(a.seq, 0u);
  EXPECT_EQ(r.state(0)[SPOOL_RING_CLAIM], tag(0));
  EXPECT_EQ(r.state(0)[SPOOL_RING_DONE], 0u);  // claimed, not done
  EXPECT_EQ(r.dctl[SPOOL_RING_DCTL_HEAD], 1u);
  EXPECT_EQ(r.dctl[kDctlTailSeen], 2u);
  l.finish(0, SPOOL_RING_STATUS_OK);
  EXPECT_EQ(r.state(0)[SPOOL_RING_DONE], tag(0));
  EXPECT_EQ(r.state(0)[SPOOL_RING_STATUS], SPOOL_RING_STATUS_OK);
  EXPECT_EQ(r.dctl[kDctlDone + 0], tag(0));
  EXPECT_EQ(r.dctl[kDctlDoneCount], 1u);
  EXPECT_EQ(r.words[SPOOL_RING_DONE_COUNT], 0u);
  const Claim b = l.next();
  ASSERT_TRUE(b.run);
  EXPECT_EQ(b.seq, 1u);
  EXPECT_EQ(l.slot(b.seq)[SPOOL_RING_ITEM], 8u);
  l.finish(1, SPOOL_RING_STATUS_OK);
  r.words[SPOOL_RING_PARK] = 1;  // nothing left: PARK means exit
  EXPECT_FALSE(l.next().run);
  l.leave();
  EXPECT_EQ(r.dctl[kDctlRunning], 0u);
  EXPECT_EQ(r.dctl[kDctlDoneCount], 2u);
  EXPECT_EQ(r.dctl[SPOOL_RING_DCTL_HEAD], 2u);
  // A second block entering bumps STARTED again (a plain load and store).
  HostLeader l2 = r.leader();
  l2.enter();
  EXPECT_EQ(r.words[SPOOL_RING_STARTED], 2u);
  l2.leave();
}

TEST(CudaLeader, ShutdownStopsBeforeTheNextClaimAndParkWaitsForTheQueueToEmpty) {
  Ring r(4);
  r.publish(0, false);
  r.words[SPOOL_RING_PARK] = 1;  // work is queued: PARK does not stop it
  HostLeader l = r.leader();
  const Claim a = l.next();
  ASSERT_TRUE(a.run);
  l.finish(a.seq, SPOOL_RING_STATUS_OK);
  r.publish(1, false);
  r.words[SPOOL_RING_SHUTDOWN] = 1;
  EXPECT_FALSE(l.next().run);
  EXPECT_EQ(r.dctl[SPOOL_RING_DCTL_HEAD], 1u);  // slot 1 stays unclaimed: the host re-runs it
  EXPECT_EQ(r.state(1)[SPOOL_RING_CLAIM], 0u);
}

TEST(CudaLeader, RetireAndIdleLimitEndTheBlock) {
  Ring r(4, /*idle_limit=*/5);
  HostLeader l = r.leader();
  HostMem::pauses = 0;
  EXPECT_FALSE(l.next().run);  // five empty polls
  EXPECT_EQ(HostMem::pauses, 4u);
  Ring q(4);
  q.publish(0, false);
  q.dctl[SPOOL_RING_DCTL_RETIRE] = 1;
  HostLeader m = q.leader();
  EXPECT_FALSE(m.next().run);
  EXPECT_EQ(q.dctl[SPOOL_RING_DCTL_HEAD], 0u);
}

TEST(CudaLeader, GatedSlotIsClaimedOnlyOnceEveryEarlierSlotIsDone) {
  Ring r(8);
  r.publish(0, false);
  r.publish(1, false);
  r.publish(2, true);  // e.g. the next item of a sequential batch
  HostLeader a = r.leader(2), b = r.leader(2);
  ASSERT_EQ(a.next().seq, 0u);
  ASSERT_EQ(b.next().seq, 1u);
  b.finish(1, SPOOL_RING_STATUS_OK);  // 1 done, 0 still running
  HostLeader c = r.leader(2);
  bool zero_finished = false;
  {
    PauseHook hook([&](std::uint64_t n) {
      EXPECT_EQ(r.dctl[SPOOL_RING_DCTL_HEAD], 2u) << "slot 2 claimed while slot 0 runs";
      if (n == 50) {
        a.finish(0, SPOOL_RING_STATUS_OK);
        zero_finished = true;
      }
    });
    const Claim g = c.next();
    ASSERT_TRUE(g.run);
    EXPECT_EQ(g.seq, 2u);
  }
  EXPECT_TRUE(zero_finished);
  EXPECT_EQ(HostMem::pauses, 50u);
}

TEST(CudaLeader, GateIgnoresSlotsReclaimedBeforeItsPublishAndOlderOccupants) {
  // Capacity 4, gate at seq 9: seqs <= 5 were reclaimed when 9 was published
  // (fewer than 4 slots outstanding); 6, 7, 8 are judged by the mirror.
  Ring r(4);
  for (std::uint32_t s = 6; s <= 9; ++s) r.publish(s, s == 9);
  r.dctl[SPOOL_RING_DCTL_HEAD] = 9;
  r.dctl[kDctlDone + (6 & 3)] = tag(6);
  r.dctl[kDctlDone + (7 & 3)] = tag(7);
  r.dctl[kDctlDone + (8 & 3)] = tag(4);  // slot of 8 still shows its older occupant: 8 not done
  HostLeader l = r.leader();
  {
    PauseHook hook([&](std::uint64_t n) {
      if (n == 3) r.dctl[kDctlDone + (8 & 3)] = tag(8);
    });
    const Claim c = l.next();
    ASSERT_TRUE(c.run);
    EXPECT_EQ(c.seq, 9u);
  }
  EXPECT_EQ(HostMem::pauses, 3u);
}

TEST(CudaLeader, MirrorWordsCountTheirOwnAndNewerOccupantsAsDone) {
  using cuda::ring::mirror_done;
  EXPECT_FALSE(mirror_done(0, 0));
  EXPECT_TRUE(mirror_done(tag(5), 5));
  EXPECT_FALSE(mirror_done(tag(1), 5));  // the slot's previous occupant (capacity 4)
  EXPECT_TRUE(mirror_done(tag(9), 5));   // a newer occupant: 5 was reclaimed before it
  const std::uint32_t big = 0xfffffff0u;  // near the wrap of 32-bit sequence numbers
  EXPECT_TRUE(mirror_done(tag(big), big));
  EXPECT_TRUE(mirror_done(tag(big + 16), big));
  EXPECT_FALSE(mirror_done(tag(big - 16), big));
  EXPECT_TRUE(mirror_done(tag(0x80000005u), 0x80000005u));
}

TEST(CudaLeader, ResumeKeepsHeadAndMirrorWhileAFreshLaunchStartsOver) {
  using cuda::ring::dctl_reset;
  const auto fresh = dctl_reset(1024, true), resume = dctl_reset(1024, false);
  EXPECT_EQ(fresh.offset_bytes, 0u);
  EXPECT_EQ(fresh.bytes, cuda::ring::dctl_words(1024) * 4);
  EXPECT_EQ(resume.offset_bytes, SPOOL_RING_DCTL_RETIRE * 4u);
  EXPECT_EQ(resume.bytes, 4u);

  Ring r(4);
  r.publish(0, false);
  r.publish(1, false);
  r.publish(2, true);
  HostLeader a = r.leader();
  for (std::uint32_t s = 0; s < 2; ++s) {
    const Claim c = a.next();
    ASSERT_EQ(c.seq, s);
    a.finish(c.seq, SPOOL_RING_STATUS_OK);
  }
  r.dctl[SPOOL_RING_DCTL_RETIRE] = 1;  // the kernel exits with slot 2 queued
  EXPECT_FALSE(a.next().run);
  std::memset(reinterpret_cast<std::byte*>(r.dctl.data()) + resume.offset_bytes, 0, resume.bytes);
  HostLeader b = r.leader();  // the resumed kernel's leader: no memory of slots 0 and 1
  HostMem::pauses = 0;
  const Claim c = b.next();
  ASSERT_TRUE(c.run);
  EXPECT_EQ(c.seq, 2u);  // not 0: nothing runs twice; the gate opens from the mirror
  EXPECT_EQ(HostMem::pauses, 0u);
}

TEST(CudaLeader, IdleLeadersReadTheHostLineOncePerStride) {
  EXPECT_EQ(cuda::ring::poll_stride(1), 1u);
  EXPECT_EQ(cuda::ring::poll_stride(31), 1u);
  EXPECT_EQ(cuda::ring::poll_stride(264), 16u);  // two blocks per SM on an H200
  EXPECT_EQ(cuda::ring::poll_stride(100000), 32u);
  Ring r(4, /*idle_limit=*/320);
  HostLeader l = r.leader(264);
  HostMem::sys_reads = 0;
  EXPECT_FALSE(l.next().run);  // 320 empty polls, then the idle limit
  // Every 16th poll reads TAIL, SHUTDOWN and PARK; init read CAPACITY and IDLE_LIMIT before.
  EXPECT_EQ(HostMem::sys_reads, 3u * 320 / 16);
  // New work is seen at the next read of the host line and spreads through TAIL_SEEN.
  Ring q(4);
  HostLeader m = q.leader(264), n = q.leader(264);
  q.publish(0, false);
  q.publish(1, false);
  ASSERT_EQ(m.next().seq, 0u);
  EXPECT_EQ(q.dctl[kDctlTailSeen], 2u);
  HostMem::sys_reads = 0;
  ASSERT_EQ(n.next().seq, 1u);
  EXPECT_EQ(HostMem::sys_reads, 3u);  // SHUTDOWN, FLAGS, GATE_SEQ of slot 1: TAIL from the mirror
}

// ---- the leader in threads, under the core's persistent queue ----

struct Args {
  std::uint32_t id;     // the item's first counter
  std::uint32_t stall;  // 1: wait for SHUTDOWN before running
};

struct Counters {
  std::vector<std::atomic<std::uint32_t>> c;
  explicit Counters(std::size_t n) : c(n) {}
  void add(std::uint32_t first, std::uint32_t begin, std::uint32_t end) {
    for (std::uint32_t i = begin; i < end; ++i) c[first + i].fetch_add(1, std::memory_order_relaxed);
  }
};

backend::ExecResult run_and_wait(backend::PersistentQueue& q, const backend::KernelImpl& k,
                                 std::span<const backend::PackedItem> items, bool sequential) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  backend::ExecResult out;
  q.submit(k, items, sequential, [&](backend::ExecResult&& r) {
    std::lock_guard g(mu);
    out = std::move(r);
    done = true;
    cv.notify_all();
  });
  std::unique_lock g(mu);
  cv.wait(g, [&] { return done; });
  return out;
}

TEST(CudaLeaderQueue, EveryIndexRunsExactlyOnceFromFourSubmittersWithChunksAndSixBlocks) {
  constexpr std::uint32_t kThreads = 4, kItems = 60, kMaxGrid = 700;
  std::mt19937 rng(20240611u);
  std::vector<std::vector<std::uint32_t>> grids(kThreads);
  std::uint32_t total = 0;
  for (auto& g : grids) {
    for (std::uint32_t i = 0; i < kItems; ++i) {
      g.push_back(1 + static_cast<std::uint32_t>(rng() % kMaxGrid));
      total += g.back();
    }
  }
  Counters counters(total);
  HostBlocks dev(16, 6, [&](const std::byte* a, std::uint32_t b, std::uint32_t e, std::uint32_t, bool) {
    Args args;
    std::memcpy(&args, a, sizeof args);
    counters.add(args.id, b, e);
  });
  dev.chunk = 64;  // items above 64 indices span several slots
  test::HostKernel k;
  backend::QueueOptions o;
  o.capacity = 16;
  o.park_us = 200;
  {
    backend::PersistentQueue q(dev.ring(), o, dev);
    std::vector<std::thread> th;
    std::uint32_t first = 0;
    for (std::uint32_t t = 0; t < kThreads; ++t) {
      th.emplace_back([&, t, first] {
        std::vector<Args> args(kItems);
        std::vector<backend::PackedItem> items(kItems);
        std::uint32_t at = first;
        for (std::uint32_t i = 0; i < kItems; ++i) {
          args[i] = Args{at, 0};
          items[i] = backend::PackedItem{grids[t][i], i, reinterpret_cast<const std::byte*>(&args[i])};
          at += grids[t][i];
        }
        for (std::uint32_t half = 0; half < 2; ++half) {  // two batches per thread
          const auto r = run_and_wait(q, k, std::span(items).subspan(half * kItems / 2, kItems / 2), t % 2 == 1);
          EXPECT_EQ(r.items_run, kItems / 2);
          EXPECT_EQ(r.items_failed, 0u) << r.failure;
        }
      });
      for (std::uint32_t i = 0; i < kItems; ++i) first += grids[t][i];
    }
    for (auto& x : th) x.join();
  }
  for (std::uint32_t i = 0; i < total; ++i) ASSERT_EQ(counters.c[i].load(), 1u) << "index " << i;
}

TEST(CudaLeaderQueue, SequentialItemsStartAfterTheirPredecessorFinishedAcrossBlocks) {
  constexpr std::uint32_t kItems = 120;
  std::vector<std::uint32_t> grid(kItems);
  std::mt19937 rng(7u);
  for (auto& g : grid) g = 1 + static_cast<std::uint32_t>(rng() % 200);
  std::vector<std::atomic<std::uint32_t>> done(kItems);  // indices finished per item
  std::atomic<std::uint32_t> violations{0};
  HostBlocks dev(8, 4, [&](const std::byte* a, std::uint32_t b, std::uint32_t e, std::uint32_t item, bool) {
    Args args;
    std::memcpy(&args, a, sizeof args);
    if (item > 0 && done[item - 1].load() != grid[item - 1]) violations.fetch_add(1);
    done[item].fetch_add(e - b);
  });
  dev.chunk = 32;
  test::HostKernel k;
  backend::QueueOptions o;
  o.capacity = 8;
  o.park_us = 200;
  std::vector<Args> args(kItems, Args{0, 0});
  std::vector<backend::PackedItem> items(kItems);
  for (std::uint32_t i = 0; i < kItems; ++i) {
    items[i] = backend::PackedItem{grid[i], i, reinterpret_cast<const std::byte*>(&args[i])};
  }
  {
    backend::PersistentQueue q(dev.ring(), o, dev);
    const auto r = run_and_wait(q, k, items, true);
    EXPECT_EQ(r.items_run, kItems);
    EXPECT_EQ(r.items_failed, 0u) << r.failure;
  }
  EXPECT_EQ(violations.load(), 0u);
  for (std::uint32_t i = 0; i < kItems; ++i) EXPECT_EQ(done[i].load(), grid[i]) << "item " << i;
}

// Blocks that retire between slots leave published slots behind: the queue
// resumes the kernel over the same ring (only RETIRE zeroed), and the new
// leaders continue at HEAD, gating from the DONE mirror they inherit.
void resume_run(int blocks, std::uint32_t retire_after, std::uint32_t idle_limit, bool must_resume) {
  SCOPED_TRACE(std::to_string(blocks) + " blocks retiring after " + std::to_string(retire_after));
  constexpr std::uint32_t kItems = 240;
  Counters counters(kItems * 3);
  std::vector<std::atomic<std::uint32_t>> done(kItems);
  std::atomic<std::uint32_t> violations{0};
  struct SeqArgs {
    std::uint32_t id;          // first counter
    std::uint32_t sequential;  // 1: an item of a sequential batch
  };
  HostBlocks dev(4, blocks, [&](const std::byte* a, std::uint32_t b, std::uint32_t e, std::uint32_t item, bool) {
    SeqArgs args;
    std::memcpy(&args, a, sizeof args);
    const std::uint32_t batch_first = args.id / 3 / 40 * 40;
    if (item > 0 && args.sequential != 0 && done[batch_first + item - 1].load() == 0) violations.fetch_add(1);
    counters.add(args.id, b, e);
    done[args.id / 3].fetch_add(1);
  });
  dev.retire_after = retire_after;
  test::HostKernel k;
  backend::QueueOptions o;
  o.capacity = 4;
  o.idle_limit = idle_limit;
  std::vector<SeqArgs> args(kItems);
  std::vector<backend::PackedItem> items(kItems);
  for (std::uint32_t i = 0; i < kItems; ++i) {
    args[i] = SeqArgs{3 * i, (i / 40) % 2};
    items[i] = backend::PackedItem{3, i % 40, reinterpret_cast<const std::byte*>(&args[i])};
  }
  backend::QueueStats stats;
  {
    backend::PersistentQueue q(dev.ring(), o, dev);
    for (std::uint32_t b = 0; b < kItems; b += 40) {
      const auto r = run_and_wait(q, k, std::span(items).subspan(b, 40), (b / 40) % 2 == 1);
      EXPECT_EQ(r.items_run, 40u);
      EXPECT_EQ(r.items_failed, 0u) << r.failure;
    }
    stats = q.stats();
  }
  for (std::uint32_t i = 0; i < 3 * kItems; ++i) ASSERT_EQ(counters.c[i].load(), 1u) << "index " << i;
  EXPECT_EQ(violations.load(), 0u);
  if (must_resume) {
    EXPECT_GT(stats.relaunches, 0u);
  }
}

TEST(CudaLeaderQueue, KernelThatExitsWithWorkQueuedIsResumedWithoutRepeats) {
  resume_run(1, 1, 1u << 26, true);  // one block, one slot per launch: the ring always holds more
  resume_run(3, 5, 1u << 26, true);
  resume_run(3, 0, 2, false);        // blocks that give up after two empty polls: mostly fresh launches
}

TEST(CudaLeaderQueue, StalledItemIsRecoveredAndTheUnclaimedOnesRunOnceByFallback) {
  constexpr std::uint32_t kItems = 10;
  Counters counters(kItems);
  std::atomic<std::uint32_t> by_fallback{0};
  std::uint32_t* ring = nullptr;
  HostBlocks dev(16, 1, [&](const std::byte* a, std::uint32_t b, std::uint32_t e, std::uint32_t, bool fallback) {
    Args args;
    std::memcpy(&args, a, sizeof args);
    if (args.stall != 0 && !fallback) {
      // A body that takes until the watchdog asks the kernel to stop.
      while (std::atomic_ref<std::uint32_t>(ring[SPOOL_RING_SHUTDOWN]).load() == 0) std::this_thread::yield();
    }
    if (fallback) by_fallback.fetch_add(1);
    counters.add(args.id, b, e);
  });
  ring = dev.ring();
  test::HostKernel k;
  backend::QueueOptions o;
  o.capacity = 16;
  o.watchdog_ms = 50;
  o.grace_ms = 60000;  // the kernel stops once the stalled body ends: never hung here
  std::vector<Args> args(kItems);
  std::vector<backend::PackedItem> items(kItems);
  for (std::uint32_t i = 0; i < kItems; ++i) {
    args[i] = Args{i, i == 0 ? 1u : 0u};
    items[i] = backend::PackedItem{1, i, reinterpret_cast<const std::byte*>(&args[i])};
  }
  {
    backend::PersistentQueue q(dev.ring(), o, dev);
    const auto r = run_and_wait(q, k, items, true);
    EXPECT_TRUE(r.watchdog_fired);
    EXPECT_EQ(r.items_run, kItems);
    EXPECT_EQ(r.items_failed, 0u) << r.failure;
    EXPECT_EQ(r.fallback_items, kItems - 1);  // the stalled item finished on the device
    // The device is usable again: a fresh kernel over a reset ring.
    const auto again = run_and_wait(q, k, std::span(items).subspan(1, 3), false);
    EXPECT_EQ(again.items_run, 3u);
    EXPECT_FALSE(again.watchdog_fired);
  }
  EXPECT_EQ(by_fallback.load(), kItems - 1);
  EXPECT_EQ(counters.c[0].load(), 1u);
  for (std::uint32_t i = 1; i < 4; ++i) EXPECT_EQ(counters.c[i].load(), 2u) << i;
  for (std::uint32_t i = 4; i < kItems; ++i) EXPECT_EQ(counters.c[i].load(), 1u) << i;
}

}  // namespace
