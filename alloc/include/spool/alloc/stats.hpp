// Diagnostics: per-class counters merged on demand, learner health, report.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "spool/alloc/size_class.hpp"

namespace spool::alloc {

struct ClassStats {
  std::uint64_t hits = 0;          // fast-path pops (only with SPOOL_ALLOC_STATS)
  std::uint64_t misses = 0;        // alloc slow-path entries for the class
  std::uint64_t refills = 0;       // batches installed into a thread's list
  std::uint64_t refilled_blocks = 0;
  std::uint64_t flushes = 0;       // excess returned to the backend
  std::uint64_t bytes_retained = 0;  // carved from the OS for this class
  std::uint64_t depot_blocks = 0;  // free blocks held by the shared backend
  std::uint64_t released_blocks = 0;  // depot blocks whose pages went back to the OS (cumulative)
  std::uint32_t refill_count = 0;  // the count the next refill will use
  std::uint8_t learner_state = 0;  // 0 no observations, 1 learning, 2 stood down, 3 watching
};

struct Stats {
  bool hits_tracked = false;  // compiled with SPOOL_ALLOC_STATS
  std::array<ClassStats, kClassCount> classes{};
  std::uint64_t large_allocs = 0;
  std::uint64_t large_bytes_live = 0;
  std::uint64_t segments = 0;
  std::uint64_t retained_free_bytes = 0;  // free medium/large memory kept resident (budgeted)
  // Learner (Box 3) health.
  bool learner_running = false;
  std::uint64_t events_pushed = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t events_consumed = 0;
  std::uint64_t learner_decisions = 0;  // times a class's published count changed
  std::uint64_t learner_stand_downs = 0;  // times a class's learner stood down
  std::uint32_t learner_stood_down = 0;   // classes stood down now (not observed until a backoff ends)
  std::uint32_t learner_watching = 0;     // classes only measuring the fixed count (nothing to gain)
  std::uint32_t learner_classes = 0;      // classes with observations
  std::uint64_t learner_cpu_ns = 0;
  std::uint64_t learner_wall_ns = 0;    // since the learner started
};

[[nodiscard]] Stats stats() noexcept;
// Writes a human-readable report (no allocation) to file descriptor fd.
void print_report(int fd = 2) noexcept;
[[nodiscard]] std::string report();

}  // namespace spool::alloc
