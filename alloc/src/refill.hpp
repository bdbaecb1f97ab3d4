// Box 2 — the refill engine's internal interface (stats and tests).
#pragma once

#include <cstdint>

#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {

// Refills a thread's empty list of class cls and returns one block of it
// (nullptr when the OS refuses memory). Reads the count from Box 3's policy
// table, carves from the backend, pushes a RefillEvent to Box 3.
void* refill_and_alloc(unsigned cls) noexcept;

// Global per-class counters of the refill engine (relaxed atomics, slow path).
struct RefillCounters {
  std::uint64_t misses = 0;
  std::uint64_t refills = 0;
  std::uint64_t refilled_blocks = 0;
  std::uint64_t flushes = 0;
};
RefillCounters refill_counters(unsigned cls) noexcept;
// Count the next refill of cls will use, after clamping to batch bytes.
std::uint32_t effective_refill_count(unsigned cls) noexcept;
void count_miss(unsigned cls) noexcept;

// Sum of the per-thread hit counters of live and exited threads
// (0 unless built with SPOOL_ALLOC_STATS).
void merged_hits(std::uint64_t (&out)[kClassCount]) noexcept;

// Returns everything the calling thread caches to the backend.
void flush_all_lists() noexcept;

}  // namespace spool::alloc::detail
