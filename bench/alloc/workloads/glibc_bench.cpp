// The two loops of glibc's malloc benchmarks (benchtests/bench-malloc-simple.c
// and bench-malloc-thread.c), written anew.
//   glibc-simple: one thread allocates n blocks of one size and frees them in
//     allocation order, for n in {25, 100, 400, 1600} and sizes {16, 256,
//     1024, 4096}. One operation = one malloc + free.
//   glibc-thread: each thread keeps 1024 slots and replaces a random one per
//     step with a size drawn from a 1/size distribution over 4..32768 bytes.
//     One operation = one free + malloc.
#include <cmath>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {

Result glibc_simple(const Params& p) {
  static constexpr std::size_t kCounts[] = {25, 100, 400, 1600};
  static constexpr std::size_t kSizes[] = {16, 256, 1024, 4096};
  const std::uint64_t per_case = scaled(600'000, p.scale);  // pairs per (count, size)
  std::vector<void*> v(1600);
  std::uint64_t ops = 0;
  const auto t0 = Clock::now();
  for (std::size_t size : kSizes) {
    for (std::size_t n : kCounts) {
      for (std::uint64_t done = 0; done < per_case; done += n) {
        for (std::size_t i = 0; i < n; ++i) v[i] = touch(std::malloc(size), size);
        for (std::size_t i = 0; i < n; ++i) std::free(v[i]);
        ops += n;
      }
    }
  }
  Result r;
  r.seconds = seconds_since(t0);
  r.ops = static_cast<double>(ops);
  return r;
}

namespace {

constexpr std::size_t kSlots = 1024;

// 1/size distribution over [4, 32768]: size = 4 * (32768/4)^u, u uniform.
std::vector<std::size_t> size_table(std::uint64_t seed) {
  std::vector<std::size_t> t(4096);
  Rng r(seed);
  for (auto& s : t) {
    const double u = static_cast<double>(r.below(1'000'000)) / 1e6;
    s = static_cast<std::size_t>(4.0 * std::pow(8192.0, u));
  }
  return t;
}

}  // namespace

Result glibc_thread(const Params& p) {
  const int threads = p.threads < 1 ? 1 : p.threads;
  const std::uint64_t steps = scaled(8'000'000, p.scale);
  const std::vector<std::size_t> sizes = size_table(p.seed);
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&sizes, steps, seed = p.seed + static_cast<std::uint64_t>(t)] {
      Rng r(seed);
      std::vector<void*> slot(kSlots, nullptr);
      for (std::uint64_t i = 0; i < steps; ++i) {
        void*& s = slot[r.below(kSlots)];
        std::free(s);
        const std::size_t n = sizes[r.below(sizes.size())];
        s = touch(std::malloc(n), n);
      }
      for (void* s : slot) std::free(s);
    });
  }
  for (auto& t : ts) t.join();
  Result res;
  res.seconds = seconds_since(t0);
  res.ops = static_cast<double>(steps) * threads;
  return res;
}

}  // namespace spool::bench
