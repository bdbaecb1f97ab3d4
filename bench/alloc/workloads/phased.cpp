// A workload whose pattern changes during the run, so that no single refill
// count suits every phase. Each cycle runs three phases on the same size
// classes (16..256 bytes):
//   local   every thread replaces random blocks of its own working set
//           (frees return to the allocating thread; refills are rare);
//   handoff producer/consumer pairs: producers allocate batches that the
//           consumers free (every block crosses threads; the producer's
//           lists run dry constantly, so bigger refills pay);
//   churn   bursts of short-lived threads, each allocating 1200
//           blocks and handing half to the next burst (every new thread
//           starts with empty lists; big refills are carved and abandoned).
// threads >= 2 (pairs for the handoff). One operation = one allocation.
// --phases runs a subset of the phases (the others are skipped in every
// cycle), so that the best refill count of each phase can be measured alone
// (docs/PERFORMANCE.md, "what a per-phase count could gain"); the result
// line reports each phase's seconds summed over the cycles (phase_s=...).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "../workload.hpp"
#include "handoff.hpp"

namespace spool::bench {
namespace {

constexpr std::size_t kLocalSlots = 2048;
constexpr std::size_t kBatch = 256;
constexpr std::size_t kChurnBlocks = 1200;

std::size_t phased_size(Rng& r) { return 16 + r.below(241); }

// The phases in the order a cycle runs them (names for --phases and phase_s).
struct Phase {
  const char* name;
  unsigned bit;
};
constexpr Phase kPhases[] = {{"local", kPhaseLocal}, {"handoff", kPhaseHandoff}, {"churn", kPhaseChurn}};

std::uint64_t local_phase(int threads, std::uint64_t steps, std::uint64_t seed) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([steps, seed = seed + static_cast<std::uint64_t>(t)] {
      Rng r(seed);
      std::vector<void*> slot(kLocalSlots, nullptr);
      for (std::uint64_t i = 0; i < steps; ++i) {
        void*& s = slot[r.below(kLocalSlots)];
        std::free(s);
        const std::size_t n = phased_size(r);
        s = touch(std::malloc(n), n);
      }
      for (void* s : slot) std::free(s);
    });
  }
  for (auto& t : ts) t.join();
  return steps * static_cast<std::uint64_t>(threads);
}

std::uint64_t churn_phase(int threads, std::uint64_t bursts, std::uint64_t seed) {
  std::vector<std::vector<void*>> handed(static_cast<std::size_t>(threads));
  for (std::uint64_t b = 0; b < bursts; ++b) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&mine = handed[static_cast<std::size_t>(t)], seed = seed + b * 977 + static_cast<std::uint64_t>(t)] {
        Rng r(seed);
        for (void* q : mine) std::free(q);
        mine.clear();
        for (std::size_t i = 0; i < kChurnBlocks; ++i) {
          const std::size_t n = phased_size(r);
          void* q = touch(std::malloc(n), n);
          if (i % 2 == 0) {
            mine.push_back(q);
          } else {
            std::free(q);
          }
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  for (auto& h : handed) {
    for (void* q : h) std::free(q);
  }
  return bursts * kChurnBlocks * static_cast<std::uint64_t>(threads);
}

}  // namespace

bool parse_phases(const std::string& list, unsigned& bits, std::string& err) {
  bits = 0;
  std::size_t at = 0;
  while (at <= list.size()) {
    const std::size_t comma = list.find(',', at);
    const std::size_t end = comma == std::string::npos ? list.size() : comma;
    const std::string name = list.substr(at, end - at);
    unsigned bit = 0;
    for (const Phase& ph : kPhases) {
      if (name == ph.name) bit = ph.bit;
    }
    if (bit == 0) {
      err = "unknown phase '" + name + "' in '" + list + "' (known: local, handoff, churn)";
      return false;
    }
    bits |= bit;
    at = end + 1;
  }
  return true;
}

Result phased(const Params& p) {
  const int threads = p.threads < 2 ? 2 : p.threads;
  const std::uint64_t cycles = scaled(3, p.scale);
  std::uint64_t ops = 0;
  double spent[std::size(kPhases)] = {};
  const auto t0 = Clock::now();
  for (std::uint64_t c = 0; c < cycles; ++c) {
    for (std::size_t i = 0; i < std::size(kPhases); ++i) {
      if ((p.phases & kPhases[i].bit) == 0) continue;
      const auto t = Clock::now();
      const std::uint64_t seed = p.seed + c * 3 + i;
      switch (kPhases[i].bit) {
        case kPhaseLocal: ops += local_phase(threads, 4'000'000, seed); break;
        case kPhaseHandoff: ops += handoff(threads / 2, 12'000, kBatch, seed, phased_size); break;
        default: ops += churn_phase(threads, 600, seed); break;
      }
      spent[i] += seconds_since(t);
    }
  }
  Result r;
  r.seconds = seconds_since(t0);
  r.ops = static_cast<double>(ops);
  for (std::size_t i = 0; i < std::size(kPhases); ++i) {
    if ((p.phases & kPhases[i].bit) == 0) continue;
    char part[48];
    std::snprintf(part, sizeof part, "%s%s:%.6f", r.detail.empty() ? "phase_s=" : ",", kPhases[i].name, spent[i]);
    r.detail += part;
  }
  return r;
}

}  // namespace spool::bench
