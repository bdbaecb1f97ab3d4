// What the benchmark prints: a table per kernel/ordering (one row per batch
// size, medians over repetitions), the mixed workloads, the enqueue cost,
// a summary of each issue-12 target (met / missed, with the figures) and a
// CSV file with one row per measurement.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "bench.hpp"
#include "spool_runs.hpp"

namespace bench {

// Median (mean of the two middle values for an even count); NaN when empty.
double median(std::vector<double> v);

// One row per measurement; the header names the columns (kCsvColumns).
class Csv {
 public:
  // Opens `path` for writing; throws bench::Error saying why it cannot.
  Csv(const std::string& path, std::string affinity);
  ~Csv();
  Csv(const Csv&) = delete;
  Csv& operator=(const Csv&) = delete;
  void write(const Measurement& m);

 private:
  std::FILE* f_ = nullptr;
  std::string affinity_;
};
extern const char* const kCsvColumns;

// Per-size tables. `columns` are the strategies that ran in this section.
void print_size_header(std::FILE* out, const std::string& title, std::span<const Strategy> columns);
void print_size_row(std::FILE* out, std::span<const Measurement> runs, std::span<const Strategy> columns);
void print_size_notes(std::FILE* out, std::span<const Strategy> columns, std::uint32_t raw_cap);

// One mixed workload: a row per strategy, and its sizes' distribution.
void print_mixed(std::FILE* out, const std::string& title, std::span<const Measurement> runs);

// The host enqueue cost of persistent mode.
void print_enqueue(std::FILE* out, std::span<const Measurement> runs);

struct RunInfo {
  double open_ms = 0;           // opening the device, calibration / cached profile included
  std::string profile_source;   // LaunchProfile::source
  std::string affinity;
  bool pinned = false;
};

// Each issue-12 target, met or missed, with the figures from `all`.
// Returns the number of wrong results seen (failures).
int print_summary(std::FILE* out, const std::vector<Measurement>& all,
                  const std::vector<BatchPrediction>& mixed_batches, const RunInfo& info);

}  // namespace bench
