// Box 2 — the refill engine's internal interface (stats and tests).
#pragma once

#include <cstdint>

#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {

// Refills a thread's empty list of class cls and returns one block of it
// (nullptr when the OS refuses memory). Counts the miss, reads the count from
// Box 3's policy table, takes a chain from the backend and, while the learner
// is on, keeps the observation window that becomes a RefillEvent.
void* refill_and_alloc(unsigned cls) noexcept;

// Per-class counters of the refill engine, summed over live and exited threads.
struct RefillCounters {
  std::uint64_t misses = 0;
  std::uint64_t refills = 0;
  std::uint64_t refilled_blocks = 0;
  std::uint64_t flushes = 0;
};
RefillCounters refill_counters(unsigned cls) noexcept;
// All classes at once, and Box 1's hit counters (0 unless SPOOL_ALLOC_STATS).
void merged_counters(RefillCounters (&out)[kClassCount], std::uint64_t (&hits)[kClassCount]) noexcept;
// Count the next refill of cls will use, after clamping to batch bytes.
std::uint32_t effective_refill_count(unsigned cls) noexcept;

// Returns everything the calling thread caches to the backend.
void flush_all_lists() noexcept;

}  // namespace spool::alloc::detail
