// Telemetry: every batch produces one verdict event, delivered to the sinks.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "spool/verdict.hpp"

namespace spool {

class TelemetrySink {
 public:
  virtual ~TelemetrySink() = default;
  virtual void on_verdict(const Verdict& v) = 0;  // must be thread-safe
};

// Version of the event schema written by this Spool (docs/telemetry.md). A
// field never changes name, type or unit within a version.
inline constexpr int kTelemetrySchemaVersion = 1;

// This process's run id: 16 hex digits, random, fixed for the process's life.
// With the pid it tells apart processes appending to one file.
std::string_view telemetry_run_id() noexcept;

// One event as a JSON object on one line, without the newline
// (docs/telemetry.md documents every field).
std::string to_json(const Verdict& v);

class JsonLinesSink final : public TelemetrySink {
 public:
  // Appends to `path` (created if missing; every line is one append, so
  // several processes may share a file). Throws spool::Error when the file
  // cannot be opened.
  explicit JsonLinesSink(const std::string& path);
  ~JsonLinesSink() override;
  JsonLinesSink(const JsonLinesSink&) = delete;
  JsonLinesSink& operator=(const JsonLinesSink&) = delete;
  // A failed write is reported once through the log (spool/log.hpp); the
  // batch and later writes are not affected.
  void on_verdict(const Verdict& v) override;

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> reported_{false};
};

}  // namespace spool
