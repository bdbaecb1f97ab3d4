// Producer/consumer handoff shared by the xmalloc and phased workloads: each
// pair has a single-producer single-consumer ring of batch slots; the producer
// allocates a batch of blocks into a free slot, the consumer frees every
// block of a full slot. Waiting is a yield loop (both threads stay runnable,
// so the measurement is the allocator's, not the scheduler's wake-up latency).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {

// Returns the number of blocks handed over (pairs * batches * batch).
template <class SizeFn>
std::uint64_t handoff(int pairs, std::uint64_t batches, std::size_t batch, std::uint64_t seed,
                      SizeFn size_of) {
  constexpr std::uint64_t kRing = 16;
  struct Pair {
    std::vector<void*> slots;
    alignas(64) std::atomic<std::uint64_t> produced{0};
    alignas(64) std::atomic<std::uint64_t> consumed{0};
  };
  std::vector<Pair> ps(static_cast<std::size_t>(pairs));
  for (auto& pr : ps) pr.slots.resize(kRing * batch);
  std::vector<std::thread> ts;
  for (int k = 0; k < pairs; ++k) {
    Pair& pr = ps[static_cast<std::size_t>(k)];
    ts.emplace_back([&pr, batches, batch, size_of, seed = seed + static_cast<std::uint64_t>(k)] {
      Rng r(seed);
      for (std::uint64_t b = 0; b < batches; ++b) {
        while (b - pr.consumed.load(std::memory_order_acquire) >= kRing) std::this_thread::yield();
        void** out = &pr.slots[(b % kRing) * batch];
        for (std::size_t i = 0; i < batch; ++i) {
          const std::size_t n = size_of(r);
          out[i] = touch(std::malloc(n), n);
        }
        pr.produced.store(b + 1, std::memory_order_release);
      }
    });
    ts.emplace_back([&pr, batches, batch] {
      for (std::uint64_t b = 0; b < batches; ++b) {
        while (pr.produced.load(std::memory_order_acquire) <= b) std::this_thread::yield();
        void** in = &pr.slots[(b % kRing) * batch];
        for (std::size_t i = 0; i < batch; ++i) std::free(in[i]);
        pr.consumed.store(b + 1, std::memory_order_release);
      }
    });
  }
  for (auto& t : ts) t.join();
  return batches * batch * static_cast<std::uint64_t>(pairs);
}

}  // namespace spool::bench
