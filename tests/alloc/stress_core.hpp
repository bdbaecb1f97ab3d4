// A stress run after the pattern of mimalloc's test-stress (written anew):
// rounds of freshly created threads (thread churn); each thread replaces
// random blocks of a working set, keeps some until it ends, and swaps blocks
// with a shared transfer array, so blocks are freed by other threads and
// survive into later rounds. Sizes are random (mostly small, some medium up to
// 256 KiB, a few large up to 2 MiB), with calloc, realloc and aligned
// allocations mixed in. Every block carries a pattern derived from its address
// and size, checked before it is freed. Header-only: compiled into the gtest
// suite (the pool's C API, also under ASan/TSan) and into a program run under
// LD_PRELOAD of the shim (plain malloc).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace spool::alloc::test {

struct StressApi {
  void* (*malloc_fn)(std::size_t);
  void* (*calloc_fn)(std::size_t, std::size_t);
  void* (*realloc_fn)(void*, std::size_t);
  void* (*aligned_fn)(std::size_t alignment, std::size_t size);
  void (*free_fn)(void*);
};

struct StressConfig {
  int threads = 4;
  int rounds = 10;
  int steps = 20'000;      // per thread per round
  std::uint64_t seed = 1;
};

struct StressResult {
  std::uint64_t allocations = 0;
  std::uint64_t frees = 0;
  std::uint64_t corrupt = 0;     // blocks whose pattern changed
  std::uint64_t misaligned = 0;  // aligned allocations that were not
  std::uint64_t failed = 0;      // allocations that returned nullptr
};

namespace stress_detail {

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  bool chance(unsigned percent) { return next() % 100 < percent; }
};

struct Block {
  unsigned char* p = nullptr;
  std::size_t n = 0;
};

inline unsigned char pattern(const unsigned char* base, std::size_t n, std::size_t i) {
  return static_cast<unsigned char>((reinterpret_cast<std::uintptr_t>(base) >> 4) ^ (n * 131) ^ (i * 7));
}

// Positions that carry the pattern: everything for blocks up to 4 KiB,
// otherwise the first and last KiB and one byte in every 509.
template <class F>
void for_checked(std::size_t n, F&& f) {
  if (n <= 4096) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  for (std::size_t i = 0; i < 1024; ++i) f(i);
  for (std::size_t i = 1024; i < n - 1024; i += 509) f(i);
  for (std::size_t i = n - 1024; i < n; ++i) f(i);
}

inline void fill(const Block& b) {
  for_checked(b.n, [&](std::size_t i) { b.p[i] = pattern(b.p, b.n, i); });
}

inline bool intact(const Block& b) {
  bool ok = true;
  for_checked(b.n, [&](std::size_t i) { ok = ok && b.p[i] == pattern(b.p, b.n, i); });
  return ok;
}

inline std::size_t random_size(Rng& r) {
  const std::uint64_t x = r.next() % 1000;
  if (x < 2) return (std::size_t{1} << 20) + r.next() % (std::size_t{1} << 20);  // large
  if (x < 50) return 1024 + r.next() % (255 * 1024);                            // medium
  return 1 + r.next() % 1024;                                                   // small
}

}  // namespace stress_detail

inline StressResult run_stress(const StressApi& api, const StressConfig& cfg) {
  using namespace stress_detail;
  constexpr std::size_t kTransfer = 256;
  std::vector<std::atomic<Block*>> transfer(kTransfer);
  for (auto& t : transfer) t.store(nullptr);
  std::atomic<std::uint64_t> allocs{0};
  std::atomic<std::uint64_t> frees{0};
  std::atomic<std::uint64_t> corrupt{0};
  std::atomic<std::uint64_t> misaligned{0};
  std::atomic<std::uint64_t> failed{0};

  auto make = [&](Rng& r) -> Block {
    const std::size_t n = random_size(r);
    Block b{nullptr, n};
    const std::uint64_t how = r.next() % 10;
    if (how == 0) {
      b.p = static_cast<unsigned char*>(api.calloc_fn(1, n));
      if (b.p != nullptr) {
        for (std::size_t i = 0; i < n; i += (n > 4096 ? 61 : 1)) {
          if (b.p[i] != 0) {
            corrupt.fetch_add(1);
            break;
          }
        }
      }
    } else if (how == 1) {
      const std::size_t align = std::size_t{16} << (r.next() % 9);  // 16 .. 4096
      b.p = static_cast<unsigned char*>(api.aligned_fn(align, n));
      if (b.p != nullptr && reinterpret_cast<std::uintptr_t>(b.p) % align != 0) misaligned.fetch_add(1);
    } else {
      b.p = static_cast<unsigned char*>(api.malloc_fn(n));
    }
    if (b.p == nullptr) {
      failed.fetch_add(1);
      return Block{};
    }
    allocs.fetch_add(1, std::memory_order_relaxed);
    fill(b);
    return b;
  };
  auto drop = [&](const Block& b) {
    if (b.p == nullptr) return;
    if (!intact(b)) corrupt.fetch_add(1);
    api.free_fn(b.p);
    frees.fetch_add(1, std::memory_order_relaxed);
  };
  // Grows or shrinks a block in place of a free + malloc; the prefix must survive.
  auto resize = [&](Block& b, Rng& r) {
    if (b.p == nullptr) return;
    if (!intact(b)) corrupt.fetch_add(1);
    const std::size_t keep = b.n < 64 ? b.n : 64;
    unsigned char head[64];
    std::memcpy(head, b.p, keep);
    const std::size_t n = random_size(r);
    auto* q = static_cast<unsigned char*>(api.realloc_fn(b.p, n));
    if (q == nullptr) {  // the old block stays valid
      failed.fetch_add(1);
      return;
    }
    if (std::memcmp(head, q, keep < n ? keep : n) != 0) corrupt.fetch_add(1);
    b = Block{q, n};
    fill(b);
  };

  auto worker = [&](std::uint64_t seed) {
    Rng r{seed * 0x9E3779B97F4A7C15ULL + 1};
    std::vector<Block> live(64);
    std::vector<Block> retained;
    for (int step = 0; step < cfg.steps; ++step) {
      const std::uint64_t x = r.next() % 100;
      if (x < 5) {
        retained.push_back(make(r));  // lives until the thread ends
      } else if (x < 20) {
        Block& mine = live[r.next() % live.size()];
        if (mine.p == nullptr) mine = make(r);
        auto* boxed = new Block(mine);
        Block* got = transfer[r.next() % kTransfer].exchange(boxed, std::memory_order_acq_rel);
        if (got != nullptr) {
          mine = *got;
          delete got;
        } else {
          mine = Block{};
        }
      } else if (x < 25) {
        resize(live[r.next() % live.size()], r);
      } else {
        Block& b = live[r.next() % live.size()];
        drop(b);
        b = make(r);
      }
    }
    for (const Block& b : live) drop(b);
    for (const Block& b : retained) drop(b);
  };

  for (int round = 0; round < cfg.rounds; ++round) {
    std::vector<std::thread> ts;
    for (int t = 0; t < cfg.threads; ++t) {
      ts.emplace_back(worker, cfg.seed * 1000 + static_cast<std::uint64_t>(round) * 97 +
                                  static_cast<std::uint64_t>(t));
    }
    for (auto& t : ts) t.join();
    for (std::size_t i = 0; i < kTransfer; i += 2) {  // half survive into the next round
      if (Block* b = transfer[i].exchange(nullptr)) {
        drop(*b);
        delete b;
      }
    }
  }
  for (auto& t : transfer) {
    if (Block* b = t.exchange(nullptr)) {
      drop(*b);
      delete b;
    }
  }
  return {allocs.load(), frees.load(), corrupt.load(), misaligned.load(), failed.load()};
}

}  // namespace spool::alloc::test
