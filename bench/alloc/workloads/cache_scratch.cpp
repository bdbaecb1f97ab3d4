// Passive false sharing, the pattern of Hoard's "cache-scratch": the main
// thread allocates one tiny object per worker (neighbours in memory), hands
// object i to worker i, which frees it and then repeatedly allocates an
// object of the same size, writes it many times and frees it. An allocator
// that gives worker i the block it just freed keeps two cores writing one
// cache line. One operation = one byte written.
#include <cstdlib>
#include <thread>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {
namespace {

constexpr std::size_t kObject = 8;
constexpr std::uint64_t kIterations = 1000;

}  // namespace

Result cache_scratch(const Params& p) {
  const int threads = p.threads < 1 ? 1 : p.threads;
  const std::uint64_t reps = scaled(100'000, p.scale);
  std::vector<void*> first(static_cast<std::size_t>(threads));
  for (auto& o : first) o = std::malloc(kObject);
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&first, t, reps] {
      std::free(first[static_cast<std::size_t>(t)]);
      for (std::uint64_t it = 0; it < kIterations; ++it) {
        auto* a = static_cast<volatile unsigned char*>(std::malloc(kObject));
        for (std::uint64_t r = 0; r < reps; ++r) {
          for (std::size_t k = 0; k < kObject; ++k) a[k] = static_cast<unsigned char>(a[k] + 1);
        }
        std::free(const_cast<unsigned char*>(a));
      }
    });
  }
  for (auto& t : ts) t.join();
  Result res;
  res.seconds = seconds_since(t0);
  res.ops = static_cast<double>(kIterations * reps * kObject) * threads;
  return res;
}

}  // namespace spool::bench
