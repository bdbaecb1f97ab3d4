// Reading verdict telemetry (JSON Lines, docs/telemetry.md) back: every line
// parsed as JSON and every field checked for presence and type. Used by
// `spool telemetry summarize|trace|plot`; callable on its own (tests, fuzzing).
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "spool/types.hpp"

namespace spool::cli {

struct TelemetryEvent {
  int schema_version = 0;
  std::int64_t pid = 0;
  std::string run_id;
  std::uint64_t batch = 0;
  std::int64_t time_us = 0;
  std::uint64_t submit_ns = 0, start_ns = 0, end_ns = 0;
  std::string device, backend, kernel, variant;
  std::uint64_t items = 0, max_grid = 0;
  bool sequential = false;
  LaunchMode mode = LaunchMode::launches;
  bool forced = false, exploration = false;
  std::array<double, 3> predicted_ns{-1, -1, -1};  // < 0: unavailable (null)
  double measured_ns = 0, kernel_ns_per_item = 0, first_use_ns = 0, parked_ns = 0;
  bool resident = false;
  std::uint64_t items_run = 0, items_failed = 0;
  bool watchdog = false;
  std::uint64_t fallback_items = 0;
  std::string race_role, race_verdict, race_baseline, race_speculative;
  std::uint64_t race_baseline_n = 0, race_speculative_n = 0;
  double race_baseline_mean_ns = 0, race_speculative_mean_ns = 0;
  std::string failure;

  std::size_t line = 0;  // where it was read (1-based)

  bool ok() const noexcept { return items_failed == 0 && failure.empty(); }
  // The policy picked the mode because it predicted it cheapest.
  bool automatic() const noexcept { return !forced && !exploration; }
  double queue_ns() const noexcept { return static_cast<double>(start_ns - submit_ns); }
  double per_item_ns() const noexcept { return items ? measured_ns / static_cast<double>(items) : 0; }
};

// A line that is not a valid event: what() is "<source>:<line>: <reason>".
class TelemetryError : public std::runtime_error {
 public:
  TelemetryError(std::string source, std::size_t line, std::string reason);
  const std::string& source() const noexcept { return source_; }
  std::size_t line() const noexcept { return line_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string source_;
  std::size_t line_;
  std::string reason_;
};

// The schema versions this reader understands.
inline constexpr int kReadableSchemaVersion = 1;
// Longest line read (a longer one is an error, not an allocation).
inline constexpr std::size_t kMaxLineBytes = 1 << 20;

// Parses one line (without its newline). Throws TelemetryError naming
// `source`:`line` and the first problem found; never anything else.
TelemetryEvent parse_event(std::string_view text, std::string_view source = "<line>", std::size_t line = 1);

struct TelemetryLog {
  std::vector<TelemetryEvent> events;
  std::vector<TelemetryError> skipped;  // only with skip_invalid
  std::size_t lines = 0;                // lines read, blank ones included
};

// Reads every line of `in`. Blank lines are ignored. The first invalid line
// throws TelemetryError, unless `skip_invalid`: then it is recorded in
// `skipped` and reading goes on.
TelemetryLog read_telemetry(std::istream& in, std::string_view source, bool skip_invalid = false);
// As above from a file ("-": standard input). A file that cannot be opened
// throws std::runtime_error naming it.
TelemetryLog read_telemetry_file(const std::string& path, bool skip_invalid = false);

}  // namespace spool::cli
