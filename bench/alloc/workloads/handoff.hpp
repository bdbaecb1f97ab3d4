// Producer/consumer handoff shared by the xmalloc and phased workloads: each
// pair has a single-producer single-consumer ring of batch slots; the producer
// allocates a batch of blocks into a free slot, the consumer frees every
// block of a full slot. Waiting is std::atomic::wait (a short spin, then a
// futex): a thread whose partner was preempted sleeps instead of burning the
// CPU the partner needs (the machines this runs on are often shared), and a
// sleeper is woken once per group of batches, not per batch, so that wake-up
// latency does not set the pace.
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
  constexpr std::uint32_t kRing = 16;  // batch slots per pair
  constexpr std::uint32_t kGroup = 8;  // a sleeping partner is woken once per group
  struct Pair {
    std::vector<void*> slots;
    alignas(64) std::atomic<std::uint32_t> produced{0};
    alignas(64) std::atomic<std::uint32_t> consumed{0};
  };
  std::vector<Pair> ps(static_cast<std::size_t>(pairs));
  for (auto& pr : ps) pr.slots.resize(kRing * batch);
  std::vector<std::thread> ts;
  for (int k = 0; k < pairs; ++k) {
    Pair& pr = ps[static_cast<std::size_t>(k)];
    ts.emplace_back([&pr, batches, batch, size_of, seed = seed + static_cast<std::uint64_t>(k)] {
      Rng r(seed);
      for (std::uint32_t b = 0; b < batches; ++b) {
        for (std::uint32_t c = pr.consumed.load(std::memory_order_acquire); b - c >= kRing;
             c = pr.consumed.load(std::memory_order_acquire)) {
          pr.consumed.wait(c, std::memory_order_acquire);
        }
        void** out = &pr.slots[(b % kRing) * batch];
        for (std::size_t i = 0; i < batch; ++i) {
          const std::size_t n = size_of(r);
          out[i] = touch(std::malloc(n), n);
        }
        pr.produced.store(static_cast<std::uint32_t>(b + 1), std::memory_order_release);
        if ((b + 1) % kGroup == 0 || b + 1 == batches) pr.produced.notify_one();
      }
    });
    ts.emplace_back([&pr, batches, batch] {
      for (std::uint32_t b = 0; b < batches; ++b) {
        for (std::uint32_t p = pr.produced.load(std::memory_order_acquire); p <= b;
             p = pr.produced.load(std::memory_order_acquire)) {
          pr.produced.wait(p, std::memory_order_acquire);
        }
        void** in = &pr.slots[(b % kRing) * batch];
        for (std::size_t i = 0; i < batch; ++i) std::free(in[i]);
        pr.consumed.store(static_cast<std::uint32_t>(b + 1), std::memory_order_release);
        if ((b + 1) % kGroup == 0 || b + 1 == batches) pr.consumed.notify_one();
      }
    });
  }
  for (auto& t : ts) t.join();
  return batches * batch * static_cast<std::uint64_t>(pairs);
}

}  // namespace spool::bench
