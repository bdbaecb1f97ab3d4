// The launch-profile arithmetic every backend shares: how many items and
// repetitions a calibration runs, and how the raw timings become L, R, r, P
// and p. Backends only time the runs (they own the GPU calls).
#pragma once

#include <cstdint>
#include <vector>

#include "spool/backend/backend.hpp"
#include "spool/types.hpp"

namespace spool::backend {

struct CalibrationPlan {
  static constexpr int kRepetitions = 5;           // launches and recorded
  static constexpr int kPersistentRepetitions = 3;  // cold starts
  static constexpr std::uint32_t kLaunchItems = 16;
  static constexpr std::uint32_t kRecordItems = 256;
  static constexpr std::uint32_t kQueueItems = 256;
};

// Raw timings (ns) of the calibration runs with the empty kernel.
struct CalibrationSamples {
  std::vector<double> launch_per_item;           // whole launches batch / kLaunchItems
  std::vector<double> record_one;                // recorded batch of 1 item
  std::vector<double> record_many;               // recorded batch of kRecordItems
  std::vector<double> persistent_cold;           // 1 item, persistent kernel not resident
  std::vector<double> persistent_warm_per_item;  // kQueueItems, resident / kQueueItems
};

// Medians of the samples, then: r = slope between the 1- and N-item replays
// (when noise hides the slope, the N-item replay's cost per dispatch: an upper
// bound, never a zero that would make replays look free); R = the 1-item
// replay less r; p = the resident per-item cost; P = the cold start less p.
// Throws spool::Error(invalid_argument) when a sample list is empty.
LaunchProfile profile_from_samples(const CalibrationSamples& s);

double median(std::vector<double> v);

// n items of the empty kernel: grid 1, zeroed arguments (up to 16 bytes).
std::vector<PackedItem> empty_items(std::uint32_t n);

// Calls start(completion) and blocks until the completion has run; returns
// its result. For calibration runs of an asynchronous (persistent) mode.
ExecResult run_and_wait(const std::function<void(Completion)>& start);

}  // namespace spool::backend
