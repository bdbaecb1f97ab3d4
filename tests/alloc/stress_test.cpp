// Multi-threaded stress: blocks cross threads before they are freed, each
// block carries a pattern checked at free, and threads come and go.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "backend.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/pool_allocator.hpp"
#include "spool/alloc/spool_malloc.h"
#include "spool/alloc/stats.hpp"
#include "stress_core.hpp"

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kScale = 4;
#else
constexpr int kScale = 1;
#endif

struct Item {
  unsigned char* p;
  std::size_t n;
};

unsigned char pattern(const void* p, std::size_t i) {
  return static_cast<unsigned char>((reinterpret_cast<std::uintptr_t>(p) >> 4) + i * 131);
}

void fill(unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = pattern(p, i);
}

bool intact(const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != pattern(p, i)) return false;
  }
  return true;
}

TEST(Stress, ChurningThreadsTransferringRandomBlocksKeepEveryPatternIntact) {
  const spool::alloc::test::StressApi api{spool_malloc, spool_calloc, spool_realloc,
                                          spool_aligned_alloc, spool_free};
  spool::alloc::test::StressConfig cfg;
  cfg.threads = 4;
  cfg.rounds = kScale > 1 ? 3 : 6;
  cfg.steps = 12'000 / kScale;
  const auto r = spool::alloc::test::run_stress(api, cfg);
  EXPECT_EQ(r.corrupt, 0u);
  EXPECT_EQ(r.misaligned, 0u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.allocations, r.frees);
  EXPECT_GT(r.allocations, static_cast<std::uint64_t>(cfg.threads * cfg.rounds * cfg.steps) / 2);
}

TEST(Stress, CrossThreadFreesKeepEveryBlockIntact) {
  constexpr int kThreads = 4;
  const int per_thread = 40000 / kScale;
  std::mutex mu;
  std::vector<Item> shared;
  std::atomic<int> corrupt{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919U + 1);
      std::vector<Item> mine;
      for (int i = 0; i < per_thread; ++i) {
        const std::size_t n = 1 + rng() % (i % 97 == 0 ? 70000 : 1040);
        auto* p = static_cast<unsigned char*>(spool_malloc(n));
        fill(p, n);
        mine.push_back({p, n});
        if (mine.size() >= 64) {  // hand half to other threads, take theirs
          std::vector<Item> theirs;
          {
            std::lock_guard<std::mutex> g(mu);
            for (std::size_t k = 0; k < 32; ++k) {
              shared.push_back(mine.back());
              mine.pop_back();
            }
            const std::size_t take = shared.size() < 48 ? shared.size() : 48;
            for (std::size_t k = 0; k < take; ++k) {
              const std::size_t j = rng() % shared.size();
              theirs.push_back(shared[j]);
              shared[j] = shared.back();
              shared.pop_back();
            }
          }
          for (const Item& it : theirs) {
            if (!intact(it.p, it.n)) corrupt.fetch_add(1);
            spool_free(it.p);
          }
        }
      }
      for (const Item& it : mine) {
        if (!intact(it.p, it.n)) corrupt.fetch_add(1);
        spool_free(it.p);
      }
    });
  }
  for (auto& t : ts) t.join();
  for (const Item& it : shared) {
    EXPECT_TRUE(intact(it.p, it.n));
    spool_free(it.p);
  }
  EXPECT_EQ(corrupt.load(), 0);
}

TEST(Stress, ThreadChurnDoesNotGrowRetainedMemory) {
  // Each generation frees what the previous one left behind, like Larson.
  std::vector<void*> left;
  auto generation = [&left](unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<void*> next;
    for (void* p : left) spool::alloc::deallocate(p);
    for (int i = 0; i < 3000 / kScale; ++i) {
      void* p = spool::alloc::allocate(16 + rng() % 512);
      if (i % 3 == 0) {
        next.push_back(p);
      } else {
        spool::alloc::deallocate(p);
      }
    }
    left.swap(next);
  };
  auto retained = [] {
    std::uint64_t r = 0;
    for (const auto& c : spool::alloc::stats().classes) r += c.bytes_retained;
    return r;
  };
  for (unsigned g = 0; g < 10; ++g) std::thread(generation, g).join();
  const std::uint64_t after_warmup = retained();
  for (unsigned g = 10; g < 60 / kScale + 10; ++g) std::thread(generation, g).join();
  EXPECT_LE(retained(), after_warmup * 2 + (1U << 20));
  for (void* p : left) spool::alloc::deallocate(p);
}

TEST(Stress, ManyThreadsAllocateAndFreeConcurrently) {
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&bad, t] {
      std::vector<std::vector<int, spool::alloc::PoolAllocator<int>>> vs;
      for (int i = 0; i < 2000 / kScale; ++i) {
        vs.emplace_back(static_cast<std::size_t>(1 + (i * 37 + t) % 300), i);
        if (vs.size() > 50) vs.erase(vs.begin());
      }
      for (auto& v : vs) {
        for (int x : v) {
          if (x != v.front()) bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
