// Larson and Krishnan's server benchmark, the pattern of mimalloc-bench's
// "larson": each of T lanes owns K blocks of 8..1000 bytes, allocated up front
// by the main thread. A lane's thread repeatedly frees a random block and
// allocates a new random size in its place; after `kOpsPerLife` steps the
// slots pass to a newly created thread (thread churn), so every thread frees
// blocks that another thread allocated. One operation = one free + malloc.
#include <cstdlib>
#include <thread>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {
namespace {

constexpr std::size_t kBlocksPerLane = 5000;
constexpr std::uint64_t kOpsPerLife = 20'000;
constexpr std::size_t kMinSize = 8;
constexpr std::size_t kMaxSize = 1000;

std::size_t larson_size(Rng& r) { return kMinSize + r.below(kMaxSize - kMinSize + 1); }

}  // namespace

Result larson(const Params& p) {
  const int lanes = p.threads < 1 ? 1 : p.threads;
  const std::uint64_t lives = scaled(300, p.scale);
  std::vector<std::vector<void*>> slots(static_cast<std::size_t>(lanes));
  Rng seed_rng(p.seed);
  for (auto& s : slots) {
    s.resize(kBlocksPerLane);
    for (auto& b : s) {
      const std::size_t n = larson_size(seed_rng);
      b = touch(std::malloc(n), n);
    }
  }
  const auto t0 = Clock::now();
  std::vector<std::thread> drivers;
  for (int lane = 0; lane < lanes; ++lane) {
    drivers.emplace_back([&slots, lane, lives, &p] {
      auto& mine = slots[static_cast<std::size_t>(lane)];
      for (std::uint64_t life = 0; life < lives; ++life) {
        std::thread([&mine, seed = p.seed * 1000003 + static_cast<std::uint64_t>(lane) * 7919 + life] {
          Rng r(seed);
          for (std::uint64_t i = 0; i < kOpsPerLife; ++i) {
            void*& slot = mine[r.below(kBlocksPerLane)];
            std::free(slot);
            const std::size_t n = larson_size(r);
            slot = touch(std::malloc(n), n);
          }
        }).join();
      }
    });
  }
  for (auto& d : drivers) d.join();
  Result res;
  res.seconds = seconds_since(t0);
  res.ops = static_cast<double>(lives * kOpsPerLife) * lanes;
  for (auto& s : slots) {
    for (void* b : s) std::free(b);
  }
  return res;
}

}  // namespace spool::bench
