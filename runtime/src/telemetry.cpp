// Verdict telemetry: JSON Lines written with nlohmann-json. Field by field in
// docs/telemetry.md.
#include "spool/telemetry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "spool/error.hpp"
#include "spool/log.hpp"

namespace spool {

namespace {

using json = nlohmann::ordered_json;  // fields keep their documented order

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string make_run_id() {
  std::random_device rd;
  const std::uint64_t hi = rd(), lo = rd();
  const std::uint64_t mix =
      ((hi << 32) | lo) ^ static_cast<std::uint64_t>(::getpid()) ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(mix));
  return buf;
}

}  // namespace

std::string_view telemetry_run_id() noexcept {
  static const std::string id = make_run_id();
  return id;
}

std::string to_json(const Verdict& v) {
  json predicted = json::object();
  for (std::size_t m = 0; m < 3; ++m) {
    const std::string name(policy::to_string(static_cast<LaunchMode>(m)));
    predicted[name] = v.predicted_ns[m] < 0 ? json(nullptr) : number(v.predicted_ns[m]);
  }
  json o;
  o["schema_version"] = kTelemetrySchemaVersion;
  o["pid"] = static_cast<std::int64_t>(::getpid());
  o["run_id"] = std::string(telemetry_run_id());
  o["batch"] = v.batch_id;
  o["time_us"] = v.unix_time_us;
  o["submit_ns"] = v.submit_ns;
  o["start_ns"] = v.start_ns;
  o["end_ns"] = v.end_ns;
  o["device"] = v.device;
  o["backend"] = v.backend;
  o["kernel"] = v.kernel;
  o["variant"] = v.variant;
  o["items"] = v.items;
  o["max_grid"] = v.max_grid;
  o["sequential"] = v.sequential;
  o["mode"] = std::string(policy::to_string(v.mode));
  o["forced"] = v.forced;
  o["exploration"] = v.exploration;
  o["predicted_ns"] = std::move(predicted);
  o["measured_ns"] = number(v.measured_ns);
  o["kernel_ns_per_item"] = number(v.kernel_ns_per_item);
  o["first_use_ns"] = number(v.first_use_ns);
  o["parked_ns"] = number(v.parked_ns);
  o["resident"] = v.persistent_was_resident;
  o["items_run"] = v.items_run;
  o["items_failed"] = v.items_failed;
  o["watchdog"] = v.watchdog_fired;
  o["fallback_items"] = v.fallback_items;
  o["race_role"] = v.race_role;
  o["race_verdict"] = v.race_verdict;
  o["race_baseline"] = v.race_baseline;
  o["race_speculative"] = v.race_speculative;
  o["race_baseline_n"] = v.race_baseline_count;
  o["race_speculative_n"] = v.race_speculative_count;
  o["race_baseline_mean_ns"] = number(v.race_baseline_mean_ns);
  o["race_speculative_mean_ns"] = number(v.race_speculative_mean_ns);
  o["failure"] = v.failure;
  // Invalid UTF-8 (a device or kernel name from a driver) is replaced, never thrown.
  return o.dump(-1, ' ', false, json::error_handler_t::replace);
}

JsonLinesSink::JsonLinesSink(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Error(Errc::invalid_argument, "cannot open telemetry file '" + path + "' for appending",
                "open", std::strerror(errno), __FILE__, __LINE__);
  }
}

JsonLinesSink::~JsonLinesSink() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonLinesSink::on_verdict(const Verdict& v) {
  std::string line = to_json(v);
  line += '\n';
  // One write(2) per line: O_APPEND puts each line whole at the end of the
  // file, also when other processes append to it.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!reported_.exchange(true)) {
        log(LogLevel::warn, "telemetry: cannot write to '" + path_ + "' (" +
                                std::strerror(n < 0 ? errno : EIO) +
                                "); this and later events may be missing");
      }
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace spool
