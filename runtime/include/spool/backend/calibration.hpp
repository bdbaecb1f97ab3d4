// The launch-profile arithmetic every backend shares: how many items and
// repetitions a calibration runs, and how the raw timings become L, R, r, P
// and p. Backends only time the runs (they own the GPU calls).
#pragma once

#include <cstdint>
#include <string>
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

// The same measurements, sized at run time: the full calibration, or the
// quick check (a few probes per mode, well under 50 ms on lavapipe) that a
// stored profile must pass before it is trusted.
struct CalibrationRun {
  int repetitions = CalibrationPlan::kRepetitions;
  int persistent_repetitions = CalibrationPlan::kPersistentRepetitions;
  std::uint32_t launch_items = CalibrationPlan::kLaunchItems;
  std::uint32_t record_items = CalibrationPlan::kRecordItems;
  std::uint32_t queue_items = CalibrationPlan::kQueueItems;

  static constexpr CalibrationRun full() noexcept { return {}; }
  static constexpr CalibrationRun quick() noexcept { return {3, 1, 8, 32, 64}; }
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
LaunchProfile profile_from_samples(const CalibrationSamples& s,
                                   std::uint32_t record_items = CalibrationPlan::kRecordItems);

// Whether a quick check agrees with a stored profile: the per-item costs it
// can measure (L, r, p) each within `factor` of the stored ones, or within
// 2 us of them (sub-microsecond costs are mostly noise). `why` says which
// did not.
bool profile_agrees(const LaunchProfile& stored, const LaunchProfile& quick, double factor, std::string* why);

double median(std::vector<double> v);

// n items of the empty kernel: grid 1, zeroed arguments (up to 16 bytes).
std::vector<PackedItem> empty_items(std::uint32_t n);

// Calls start(completion) and blocks until the completion has run; returns
// its result. For calibration runs of an asynchronous (persistent) mode.
ExecResult run_and_wait(const std::function<void(Completion)>& start);

}  // namespace spool::backend
