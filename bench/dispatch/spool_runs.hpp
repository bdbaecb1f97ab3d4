// Spool's side of the benchmark: one timed batch under a forced mode or the
// automatic choice, a whole mixed sequence of batches, and the host-side
// enqueue cost of persistent mode. Every run is checked for correctness
// (Workload::verify) outside the timed part; a wrong result is recorded in
// Measurement::failure, never dropped.
#pragma once

#include <spool/spool.hpp>

#include <cstdint>
#include <vector>

#include "bench.hpp"
#include "workload.hpp"

namespace bench {

// The sizes of a mixed workload: `count` batches of 1 .. max items from a
// fixed-seed std::mt19937_64 (the same on every platform): uniform, or
// log-uniform (exp of a uniform draw in [0, ln(max + 1)), floored).
std::vector<std::uint32_t> mixed_sizes(std::uint32_t count, std::uint32_t max, std::uint64_t seed, MixedDist d);

// One batch of a sequence, for prediction errors.
struct BatchPrediction {
  spool::LaunchMode mode = spool::LaunchMode::launches;
  double predicted_ns = -1;
  double measured_ns = 0;
};

class SpoolRunner {
 public:
  SpoolRunner(spool::Device& dev, const Config& cfg) : dev_(dev), cfg_(cfg) {}

  // Whether Spool can run this workload under s (recorded / persistent may
  // be unavailable on a device or for a kernel); `why` says why not.
  bool available(Strategy s, const Workload& w, std::string* why) const;

  // One timed batch of n items: results reset, then an untimed primer batch
  // of min(n, --primer) items under the same strategy (so the timed batch
  // sees what a steady stream of such batches sees: a resident kernel, a
  // cached replay, a model that has seen the size), then building the
  // Batch and running it, timed.
  Measurement run_size(Workload& w, std::uint32_t n, Strategy s, int rep, bool warmup);

  // A whole sequence of batches back to back under s (build + run each,
  // synchronously), timed from the first build to the last completion.
  Measurement run_sequence(Workload& w, const std::vector<std::uint32_t>& sizes, Strategy s, int rep,
                           bool warmup, const char* phase, std::vector<BatchPrediction>* batches);

  // Host enqueue cost of persistent mode: submit() of a batch of
  // --enqueue-items items right after a persistent batch made the kernel
  // resident (was_resident says whether it still was at submit()).
  std::vector<Measurement> enqueue(Workload& w);

 private:
  spool::SubmitOptions options(Strategy s) const;
  Measurement base(const Workload& w, const char* phase, Strategy s, int rep, bool warmup) const;

  spool::Device& dev_;
  const Config& cfg_;
};

}  // namespace bench
