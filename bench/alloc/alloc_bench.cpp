// Allocator benchmarks, compiled once per allocator (SPOOL_BENCH_<NAME>):
//   larson <threads> <seconds>  server workload: each thread owns a slice of
//       blocks, frees a random one and allocates a random size (16..1000 B);
//       every 10'000 operations its thread is replaced by a new one that
//       frees its predecessor's blocks. Prints allocations per second.
//   mixed <ops>  one thread, 8192 slots; each step frees the slot if it holds
//       a block, else allocates 16..1040 B into it. Prints operations per second.
//   prodcons <seconds>  one thread allocates 16..256 B blocks, another frees
//       them (handed over through an SPSC ring): every block is freed by a
//       thread that did not allocate it. Prints allocations per second.
// run.sh runs every allocator side by side and prints the table.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(SPOOL_BENCH_SPOOL)
#include "spool/alloc/spool_malloc.h"
#include "spool/alloc/stats.hpp"
static const char* const kName = "spool";
static inline void* bench_malloc(std::size_t n) { return spool_malloc(n); }
static inline void bench_free(void* p) { spool_free(p); }
#elif defined(SPOOL_BENCH_MIMALLOC)
#include <mimalloc.h>
static const char* const kName = "mimalloc";
static inline void* bench_malloc(std::size_t n) { return mi_malloc(n); }
static inline void bench_free(void* p) { mi_free(p); }
#elif defined(SPOOL_BENCH_JEMALLOC)
#include <jemalloc/jemalloc.h>
static const char* const kName = "jemalloc";
static inline void* bench_malloc(std::size_t n) { return mallocx(n, 0); }
static inline void bench_free(void* p) { dallocx(p, 0); }
#elif defined(SPOOL_BENCH_TCMALLOC)
#include <gperftools/tcmalloc.h>
static const char* const kName = "tcmalloc";
static inline void* bench_malloc(std::size_t n) { return tc_malloc(n); }
static inline void bench_free(void* p) { tc_free(p); }
#else
static const char* const kName = "glibc";
static inline void* bench_malloc(std::size_t n) { return std::malloc(n); }
static inline void bench_free(void* p) { std::free(p); }
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

constexpr int kSlice = 1000;          // blocks owned per thread
constexpr int kLife = 10'000;         // operations before the thread is replaced

void* touch(void* p, std::size_t n) {
  static_cast<volatile char*>(p)[0] = 1;
  static_cast<volatile char*>(p)[n - 1] = 2;
  return p;
}

double larson(int threads, double seconds) {
  std::vector<std::vector<void*>> slices(static_cast<std::size_t>(threads));
  Rng seed{0x9E3779B97F4A7C15ULL};
  for (auto& s : slices) {
    for (int i = 0; i < kSlice; ++i) {
      const std::size_t n = 16 + seed.next() % 985;
      s.push_back(touch(bench_malloc(n), n));
    }
  }
  std::vector<std::uint64_t> allocs(static_cast<std::size_t>(threads), 0);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> drivers;
  for (int t = 0; t < threads; ++t) {
    drivers.emplace_back([&, t] {
      auto& slice = slices[static_cast<std::size_t>(t)];
      std::uint64_t gen = 0;
      while (Clock::now() < end) {
        // A new thread per life: it frees blocks its predecessor allocated.
        std::thread([&slice, &allocs, t, gen] {
          Rng r{0x1234567ULL + static_cast<std::uint64_t>(t) * 7919 + gen * 104729};
          for (int i = 0; i < kLife; ++i) {
            const std::size_t k = r.next() % kSlice;
            bench_free(slice[k]);
            const std::size_t n = 16 + r.next() % 985;
            slice[k] = touch(bench_malloc(n), n);
          }
          allocs[static_cast<std::size_t>(t)] += kLife;
        }).join();
        ++gen;
      }
    });
  }
  for (auto& d : drivers) d.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::uint64_t total = 0;
  for (auto a : allocs) total += a;
  for (auto& s : slices) {
    for (void* p : s) bench_free(p);
  }
  return static_cast<double>(total) / elapsed;
}

double mixed(std::uint64_t ops) {
  constexpr std::size_t kSlots = 8192;
  std::vector<void*> slots(kSlots, nullptr);
  Rng r{0xC0FFEEULL};
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < ops; ++i) {
    const std::size_t k = r.next() % kSlots;
    if (slots[k] != nullptr) {
      bench_free(slots[k]);
      slots[k] = nullptr;
    } else {
      const std::size_t n = 16 + r.next() % 1025;
      slots[k] = touch(bench_malloc(n), n);
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (void* p : slots) {
    if (p != nullptr) bench_free(p);
  }
  return static_cast<double>(ops) / elapsed;
}

double prodcons(double seconds) {
  constexpr std::size_t kRing = 4096;
  std::vector<std::atomic<void*>> ring(kRing);
  for (auto& r : ring) r.store(nullptr);
  std::atomic<bool> stop{false};
  std::uint64_t produced = 0;
  const auto start = Clock::now();
  std::thread consumer([&] {
    std::size_t i = 0;
    for (;;) {
      void* p = ring[i].exchange(nullptr, std::memory_order_acquire);
      if (p == nullptr) {
        if (stop.load(std::memory_order_acquire)) {
          bool any = false;
          for (auto& r : ring) {
            if (void* q = r.exchange(nullptr)) {
              bench_free(q);
              any = true;
            }
          }
          if (!any) return;
        }
        continue;
      }
      bench_free(p);
      i = (i + 1) % kRing;
    }
  });
  Rng r{0xABCDEFULL};
  const auto end = start + std::chrono::duration<double>(seconds);
  std::size_t i = 0;
  while ((produced & 1023) != 0 || Clock::now() < end) {
    const std::size_t n = 16 + r.next() % 241;
    void* p = touch(bench_malloc(n), n);
    while (ring[i].load(std::memory_order_relaxed) != nullptr) {
    }
    ring[i].store(p, std::memory_order_release);
    i = (i + 1) % kRing;
    ++produced;
  }
  stop.store(true, std::memory_order_release);
  consumer.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(produced) / elapsed;
}

void print_learner() {
#if defined(SPOOL_BENCH_SPOOL)
  const auto s = spool::alloc::stats();
  const double share = s.learner_wall_ns ? static_cast<double>(s.learner_cpu_ns) /
                                               static_cast<double>(s.learner_wall_ns)
                                         : 0.0;
  const auto offered = s.events_pushed + s.events_dropped;
  const double drop = offered ? static_cast<double>(s.events_dropped) / static_cast<double>(offered)
                              : 0.0;
  std::uint64_t refills = 0;
  for (const auto& c : s.classes) refills += c.refills;
  std::printf("learner running=%d cpu_share=%.5f events=%llu dropped=%llu drop_rate=%.6f "
              "decisions=%llu refills=%llu\n",
              s.learner_running ? 1 : 0, share, static_cast<unsigned long long>(offered),
              static_cast<unsigned long long>(s.events_dropped), drop,
              static_cast<unsigned long long>(s.learner_decisions),
              static_cast<unsigned long long>(refills));
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s larson <threads> <seconds> | mixed <ops>\n", argv[0]);
    return 2;
  }
  const std::string what = argv[1];
  if (what == "larson") {
    const int threads = std::atoi(argv[2]);
    const double seconds = argc > 3 ? std::atof(argv[3]) : 1.0;
    std::printf("%s larson threads=%d rate=%.0f\n", kName, threads, larson(threads, seconds));
  } else if (what == "mixed") {
    const auto ops = static_cast<std::uint64_t>(std::atoll(argv[2]));
    std::printf("%s mixed threads=1 rate=%.0f\n", kName, mixed(ops));
  } else if (what == "prodcons") {
    std::printf("%s prodcons threads=2 rate=%.0f\n", kName, prodcons(std::atof(argv[2])));
  } else {
    return 2;
  }
  print_learner();
  return 0;
}
