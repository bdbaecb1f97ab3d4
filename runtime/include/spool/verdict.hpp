// spool::Verdict — what the dispatcher decided for one batch, what it
// predicted for every mode, and what it measured.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "spool/types.hpp"

namespace spool {

struct Verdict {
  std::uint64_t batch_id = 0;
  std::int64_t unix_time_us = 0;  // when the batch was submitted
  std::string device;
  std::string backend;
  std::string kernel;
  std::string variant;
  std::uint32_t items = 0;
  std::uint32_t max_grid = 0;
  bool sequential = false;

  LaunchMode mode = LaunchMode::launches;
  bool forced = false;  // mode forced by the caller or SPOOL_MODE
  // Predicted cost of each mode (index = LaunchMode); < 0 where unavailable.
  std::array<double, 3> predicted_ns{-1, -1, -1};
  double measured_ns = 0;        // submit to completion of the last item
  double kernel_ns_per_item = 0; // the kernel's own time per item used in the prediction
  bool persistent_was_resident = false;
  // The mode was chosen to re-measure a stale estimate, not as the cheapest.
  bool exploration = false;
  // One-time cost of this batch beyond the prediction: the first batch
  // through a pipeline (compilation on first use). Not learned from.
  double first_use_ns = 0;
  // Time spent parking a resident persistent kernel before this batch ran
  // (part of measured_ns).
  double parked_ns = 0;

  std::uint32_t items_run = 0;     // ran exactly once
  std::uint32_t items_failed = 0;  // reported failed (see failure)
  bool watchdog_fired = false;     // persistent queue stopped draining
  std::uint32_t fallback_items = 0;// re-run by launches after the watchdog
  std::string failure;             // empty when every item ran

  // Autotune racing (empty role when not racing).
  std::string race_role;     // "baseline" | "speculative" | ""
  std::string race_verdict;  // "keep_racing" | "adopt" | "reject" | ""
  std::string race_baseline, race_speculative;  // the two variants of the race
  std::uint64_t race_baseline_count = 0, race_speculative_count = 0;  // observations so far
  double race_baseline_mean_ns = 0, race_speculative_mean_ns = 0;     // per item

  double predicted_chosen_ns() const noexcept {
    return predicted_ns[static_cast<std::size_t>(mode)];
  }
  bool ok() const noexcept { return items_failed == 0 && failure.empty(); }
};

}  // namespace spool
