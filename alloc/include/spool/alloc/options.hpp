// Run-time options, read once from SPOOL_ALLOC_* environment variables
// (one table, in options.cpp; values are integers, "0"/"1" for switches). A
// value that is not an integer in the option's range is reported on stderr
// and the default is used.
#pragma once

namespace spool::alloc {

enum class Option : unsigned {
  learner,           // SPOOL_ALLOC_LEARNER=1          run the learner thread
  refill,            // SPOOL_ALLOC_REFILL=0           >0: fixed refill count for every class
  learn_period_us,   // SPOOL_ALLOC_LEARN_PERIOD_US=5000 learner wake-up period (x16 when idle)
  max_batch_kib,     // SPOOL_ALLOC_MAX_BATCH_KIB=256  largest refill batch in bytes
  cache_kib,         // SPOOL_ALLOC_CACHE_KIB=256      per-thread, per-class list cap in bytes
  print_stats,       // SPOOL_ALLOC_PRINT_STATS=0      print the report to stderr at exit
  retain_kib,        // SPOOL_ALLOC_RETAIN_KIB=16384   free medium/large memory kept in RAM
  decay_ms,          // SPOOL_ALLOC_DECAY_MS=250       free medium/large memory unused this long goes back
  count_
};

// Current value (the environment's, or the default). Safe before main and
// inside malloc: no allocation, no locks.
[[nodiscard]] long option(Option o) noexcept;
// Overrides a value (tests, benchmarks). Takes effect at the next read.
void set_option(Option o, long value) noexcept;
[[nodiscard]] const char* option_name(Option o) noexcept;

}  // namespace spool::alloc
