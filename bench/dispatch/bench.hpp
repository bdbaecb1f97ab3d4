// bench/dispatch: the types every part of the benchmark shares — its
// configuration (from the command line), the strategies it compares and one
// measurement (one CSV row).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

// A failure of the benchmark itself (a Vulkan call of the raw baselines, a
// batch that did not run, a wrong result): what, and where.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Spool's three forced modes, its automatic choice, and the raw-Vulkan
// baselines written in this benchmark (raw_vulkan.cpp).
enum class Strategy : std::uint8_t {
  launches,
  recorded,
  persistent,
  automatic,
  raw_submit,    // (a) one vkQueueSubmit + vkWaitForFences per dispatch
  raw_cmdbuf,    // (b) one command buffer of n dispatches
  raw_resident,  // (c) a hand-written resident shader polling a host-coherent ring
};
inline constexpr int kStrategies = 7;
inline constexpr Strategy kSpoolStrategies[] = {Strategy::launches, Strategy::recorded,
                                                Strategy::persistent, Strategy::automatic};
inline constexpr Strategy kRawStrategies[] = {Strategy::raw_submit, Strategy::raw_cmdbuf,
                                              Strategy::raw_resident};
const char* to_string(Strategy s) noexcept;
inline bool is_raw(Strategy s) noexcept { return s >= Strategy::raw_submit; }
inline bool is_forced(Strategy s) noexcept { return s < Strategy::automatic; }

enum class MixedDist : std::uint8_t { log_uniform, uniform };
const char* to_string(MixedDist d) noexcept;

struct Config {
  std::uint32_t max_items = 100'000;      // batch sizes 1, 3, 10, 30, ... up to this
  int reps = 3;                           // timed repetitions (after one warm-up)
  std::uint32_t primer_max = 10'000;      // untimed same-strategy batch before each timed one
  std::uint32_t primer_batches = 1;       // how many such batches (steady state of a stream)
  std::vector<std::string> kernels{"tally", "saxpy"};
  std::vector<std::string> orderings{"independent", "sequential"};
  std::uint32_t mixed_batches = 300;      // 0: no mixed workload
  std::uint32_t mixed_max = 3000;
  std::uint64_t mixed_seed = 12;
  std::vector<MixedDist> mixed_dists{MixedDist::log_uniform, MixedDist::uniform};
  int mixed_reps = 3;
  bool raw = true;                        // the raw-Vulkan baselines
  std::uint32_t raw_cap = 3000;           // dispatches of raw (a) and (b) per run at most
  std::uint32_t enqueue_items = 512;      // 0: no enqueue measurement
  int enqueue_reps = 21;
  std::optional<std::string> pin;         // --pin CPU list
  std::string autotune = "off";
  std::string calibrate = "auto";         // auto | always | never
  std::string csv;
};

// One timed run: a batch (phase "sizes", "enqueue") or a whole mixed
// sequence (phase "mixed-log", "mixed-uniform").
struct Measurement {
  std::string phase;
  std::string kernel;    // tally | saxpy
  std::string ordering;  // independent | sequential
  std::uint32_t grid = 0;
  std::uint64_t items = 0;      // the batch size (or the sequence's items)
  std::uint64_t items_run = 0;  // items actually run (raw (a)/(b) stop at --raw-cap)
  Strategy strategy = Strategy::launches;
  int rep = 0;
  bool warmup = false;
  std::string mode;  // the mode Spool ran ("raw" for the baselines; a histogram for sequences)
  bool was_resident = false;
  double build_ns = 0;  // building the Batch(es)
  double run_ns = 0;    // submit to completion, seen by the host (enqueue: submit() only)
  double wall_ns = 0;   // from the start of building to completion
  double predicted_ns = -1;  // Verdict::predicted_chosen_ns() (sum over a sequence); < 0: none
  double measured_ns = -1;   // Verdict::measured_ns (sum over a sequence); < 0: none
  std::uint32_t relaunches = 0;  // raw resident shader: relaunches after retiring
  std::string failure;  // empty when the run was correct; else what went wrong
  double per_item_ns() const { return items_run != 0 ? wall_ns / static_cast<double>(items_run) : 0; }
  // (predicted - measured) / measured; NaN when there is no prediction.
  double prediction_error() const;
};

}  // namespace bench
