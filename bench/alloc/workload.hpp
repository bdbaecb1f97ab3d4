// Shared pieces of the allocator workloads (bench/alloc/workloads/*.cpp).
//
// Every workload allocates through plain malloc/free/new/delete, so the one
// binary measures whichever allocator is preloaded (LD_PRELOAD). A workload
// does a fixed amount of work scaled by Params::scale and returns how many
// operations it did and how long that took; the suite turns that into a rate.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spool::bench {

struct Params {
  int threads = 2;          // worker threads (workloads with a fixed shape ignore it)
  double scale = 1.0;       // multiplies the amount of work
  std::uint64_t seed = 42;  // every random choice derives from it
  unsigned phases = ~0U;    // phased only: which phases run (kPhase* bits)
};

struct Result {
  double ops = 0;      // operations counted by the workload (see its description)
  double seconds = 0;  // wall time of the measured part
  std::uint64_t check = 0;  // pattern mismatches found (must be 0)
  std::string detail;       // more key=value pairs for the result line (may be empty)
};

using WorkloadFn = Result (*)(const Params&);

struct Workload {
  const char* name;
  const char* ops_unit;     // what one operation is, for the table
  const char* description;  // the public benchmark it follows
  WorkloadFn run;
};

// The phased workload's phases (Params::phases bits).
inline constexpr unsigned kPhaseLocal = 1;
inline constexpr unsigned kPhaseHandoff = 2;
inline constexpr unsigned kPhaseChurn = 4;
// Parses a comma-separated list of phase names (local, handoff, churn) into
// kPhase* bits; on an unknown or empty name returns false and says why in err.
bool parse_phases(const std::string& list, unsigned& bits, std::string& err);

// All workloads, in the suite's row order.
const std::vector<Workload>& workloads();

// xorshift64*: fast, deterministic, good enough for size and slot choices.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL) {
    if (s == 0) s = 1;
  }
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline std::uint64_t scaled(double base, double scale) {
  const double v = base * scale;
  return v < 1 ? 1 : static_cast<std::uint64_t>(v);
}

// Writes the first and last byte (the allocator must hand out real memory).
inline void* touch(void* p, std::size_t n) {
  static_cast<volatile unsigned char*>(p)[0] = 1;
  static_cast<volatile unsigned char*>(p)[n - 1] = 2;
  return p;
}

// Pattern-checked blocks: words of the block hold (address ^ cookie ^ i).
void fill_pattern(void* p, std::size_t n);
bool check_pattern(const void* p, std::size_t n);

// Resident set of this process now, in KiB (from /proc/self/statm).
std::uint64_t rss_kib_now();
// Peak resident set of this program since exec, in KiB (VmHWM; unlike the
// parent's wait4 figure it never includes the memory of the process that
// spawned it).
std::uint64_t peak_rss_kib();

}  // namespace spool::bench
