// Telemetry lines for the CLI tests, written by the runtime's own writer
// (spool::to_json), so the reader is tested against what Spool writes.
#pragma once

#include <cstdint>
#include <string>

#include "spool/telemetry.hpp"

namespace spool::test {

inline Verdict sample_verdict(std::uint64_t batch = 1, LaunchMode mode = LaunchMode::recorded,
                              std::uint32_t items = 16, double measured_ns = 16'000) {
  Verdict v;
  v.batch_id = batch;
  v.unix_time_us = 1'700'000'000'000'000;
  v.submit_ns = 1'000'000 * batch;
  v.start_ns = v.submit_ns + 500;
  v.end_ns = v.start_ns + static_cast<std::uint64_t>(measured_ns);
  v.device = "test device";
  v.backend = "vulkan";
  v.kernel = "saxpy";
  v.variant = "wg=64";
  v.items = items;
  v.max_grid = 64;
  v.mode = mode;
  v.predicted_ns = {20'000, 15'000, 30'000};
  v.measured_ns = measured_ns;
  v.items_run = items;
  return v;
}

inline std::string sample_line(std::uint64_t batch = 1) { return to_json(sample_verdict(batch)); }

}  // namespace spool::test
