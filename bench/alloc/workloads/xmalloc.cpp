// Producer/consumer handoff, the pattern of mimalloc-bench's "xmalloc-test":
// producer threads allocate batches of 64-byte objects and hand them over;
// consumer threads free every object of a batch, so every block is freed by a
// thread that did not allocate it. threads/2 producer/consumer pairs (at
// least one). One operation = one free.
#include "handoff.hpp"

namespace spool::bench {

Result xmalloc(const Params& p) {
  constexpr std::size_t kObject = 64;
  constexpr std::size_t kBatch = 1024;
  const int pairs = p.threads / 2 < 1 ? 1 : p.threads / 2;
  const std::uint64_t batches = scaled(16'000, p.scale) / static_cast<std::uint64_t>(pairs);
  const auto t0 = Clock::now();
  const std::uint64_t n = handoff(pairs, batches, kBatch, p.seed, [](Rng&) { return kObject; });
  Result r;
  r.seconds = seconds_since(t0);
  r.ops = static_cast<double>(n);
  return r;
}

}  // namespace spool::bench
