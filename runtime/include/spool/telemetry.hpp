// Telemetry: every batch produces one verdict event, delivered to the sinks.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "spool/verdict.hpp"

namespace spool {

class TelemetrySink {
 public:
  virtual ~TelemetrySink() = default;
  virtual void on_verdict(const Verdict& v) = 0;  // must be thread-safe
};

// One JSON object per line (docs/telemetry.md documents every field).
std::string to_json(const Verdict& v);

class JsonLinesSink final : public TelemetrySink {
 public:
  // Appends to `path` (created if missing). Throws spool::Error when the
  // file cannot be opened.
  explicit JsonLinesSink(const std::string& path);
  ~JsonLinesSink() override;
  JsonLinesSink(const JsonLinesSink&) = delete;
  JsonLinesSink& operator=(const JsonLinesSink&) = delete;
  void on_verdict(const Verdict& v) override;

 private:
  std::mutex mu_;
  std::FILE* f_ = nullptr;
};

}  // namespace spool
