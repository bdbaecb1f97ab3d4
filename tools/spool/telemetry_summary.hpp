// `spool telemetry summarize`: per device, kernel and mode, what ran, how long
// it took, how good the predictions were and where the policy chose wrong.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "telemetry_reader.hpp"

namespace spool::cli {

struct Percentiles {
  std::size_t n = 0;
  double p10 = 0, p50 = 0, p90 = 0, p99 = 0;
};
// Nearest-rank percentiles of `v` (sorted in place).
Percentiles percentiles(std::vector<double>& v);

struct GroupSummary {
  std::string device, kernel;
  LaunchMode mode = LaunchMode::launches;
  std::uint64_t batches = 0, items = 0;
  std::uint64_t automatic = 0, forced = 0, exploration = 0;
  Percentiles per_item_ns;      // measured_ns / items
  Percentiles batch_ns;         // measured_ns
  Percentiles queue_ns;         // start - submit
  Percentiles prediction_error; // measured / predicted[mode] - 1 (a fraction), batches with a prediction
  // Automatic batches whose choice was wrong: by the batch's own prediction
  // (another mode was predicted cheaper) or by measurement (in the same shape
  // bucket another mode's median per-item time, over >= kMinSamples batches,
  // was more than kSlack faster than this mode's median).
  std::uint64_t mispredicted_by_prediction = 0, mispredicted_by_measurement = 0;
  std::uint64_t failed_batches = 0, failed_items = 0, watchdog = 0, fallback_items = 0;
  double first_use_ns = 0;  // total
};

struct RunSummary {
  std::int64_t pid = 0;
  std::string run_id;
  std::uint64_t batches = 0;
};

struct Summary {
  std::size_t lines = 0, events = 0;
  std::vector<std::string> skipped;  // reasons of skipped lines ("file:line: why")
  std::vector<RunSummary> runs;
  double span_ns = 0;  // first submit to last end
  std::vector<GroupSummary> groups;  // by device, kernel, mode
  static constexpr std::size_t kMinSamples = 3;
  static constexpr double kSlack = 0.10;
};

Summary summarize(const TelemetryLog& log);
void print_summary(std::ostream& os, const Summary& s, const std::string& source);
std::string summary_json(const Summary& s, const std::string& source);

}  // namespace spool::cli
