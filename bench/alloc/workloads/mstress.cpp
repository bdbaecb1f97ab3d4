// Stress pattern of mimalloc's test-stress (mimalloc-bench's "mstress"),
// written anew: rounds of T freshly created threads (thread churn). Each
// thread keeps a working set of blocks with power-of-two sizes from 16 B to
// 1 MiB (mostly small, some medium, a few large), replaces random ones,
// keeps some long-lived ones until it ends, and swaps blocks with a shared
// transfer array, so blocks migrate between threads and survive into later
// rounds. Every block is filled with a pattern that is checked when it is
// freed (Result::check counts mismatches). One operation = one allocation.
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {
namespace {

constexpr std::size_t kTransfers = 1000;
constexpr std::size_t kWorkingSet = 500;
constexpr std::size_t kRetained = 100;
constexpr std::uint64_t kStepsPerThread = 8'000;

struct Block {
  void* p;
  std::size_t n;
};

// Power-of-two sizes: 90 % 16..512 B, 9.5 % 1..32 KiB, 0.5 % 64 KiB..1 MiB.
std::size_t mstress_size(Rng& r) {
  const std::uint64_t x = r.below(1000);
  unsigned e;
  if (x < 5) {
    e = 12 + static_cast<unsigned>(r.below(5));
  } else if (x < 100) {
    e = 6 + static_cast<unsigned>(r.below(6));
  } else {
    e = static_cast<unsigned>(r.below(6));
  }
  return std::size_t{16} << e;
}

Block make_block(Rng& r) {
  const std::size_t n = mstress_size(r);
  void* p = std::malloc(n);
  fill_pattern(p, n);
  return {p, n};
}

void drop_block(const Block& b, std::atomic<std::uint64_t>& bad) {
  if (b.p == nullptr) return;
  if (!check_pattern(b.p, b.n)) bad.fetch_add(1, std::memory_order_relaxed);
  std::free(b.p);
}

}  // namespace

Result mstress(const Params& p) {
  const int threads = p.threads < 1 ? 1 : p.threads;
  const std::uint64_t rounds = scaled(25, p.scale);
  std::vector<std::atomic<Block*>> transfer(kTransfers);
  for (auto& t : transfer) t.store(nullptr);
  std::atomic<std::uint64_t> bad{0};
  std::atomic<std::uint64_t> allocs{0};

  auto worker = [&](std::uint64_t seed) {
    Rng r(seed);
    std::vector<Block> live(kWorkingSet, Block{nullptr, 0});
    std::vector<Block> retained;
    std::uint64_t n = 0;
    for (std::uint64_t step = 0; step < kStepsPerThread; ++step) {
      const std::uint64_t x = r.below(100);
      if (x < 10 && retained.size() < kRetained) {  // long-lived until the thread ends
        retained.push_back(make_block(r));
        ++n;
      } else if (x < 20) {  // migrate: swap a block with the transfer array
        Block& mine = live[r.below(kWorkingSet)];
        if (mine.p == nullptr) {
          mine = make_block(r);
          ++n;
        }
        auto* boxed = new Block(mine);
        Block* got = transfer[r.below(kTransfers)].exchange(boxed, std::memory_order_acq_rel);
        if (got != nullptr) {
          mine = *got;
          delete got;
        } else {
          mine = Block{nullptr, 0};
        }
      } else {  // replace a random working-set block
        Block& b = live[r.below(kWorkingSet)];
        drop_block(b, bad);
        b = make_block(r);
        ++n;
      }
    }
    for (const Block& b : live) drop_block(b, bad);
    for (const Block& b : retained) drop_block(b, bad);
    allocs.fetch_add(n, std::memory_order_relaxed);
  };

  const auto t0 = Clock::now();
  for (std::uint64_t round = 0; round < rounds; ++round) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back(worker, p.seed * 6364136223846793005ULL + round * 131 + static_cast<std::uint64_t>(t));
    }
    for (auto& t : ts) t.join();
    // Half the transfer array survives into the next round (long-lived objects).
    for (std::size_t i = 0; i < kTransfers; i += 2) {
      if (Block* b = transfer[i].exchange(nullptr)) {
        drop_block(*b, bad);
        delete b;
      }
    }
  }
  for (auto& t : transfer) {
    if (Block* b = t.exchange(nullptr)) {
      drop_block(*b, bad);
      delete b;
    }
  }
  Result res;
  res.seconds = seconds_since(t0);
  res.ops = static_cast<double>(allocs.load());
  res.check = bad.load();
  return res;
}

}  // namespace spool::bench
