// Verdict telemetry: JSON Lines. Field by field in docs/telemetry.md.
#include "spool/telemetry.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "spool/error.hpp"

namespace spool {

namespace {

void put_string(std::string& o, const char* key, const std::string& v) {
  o += '"';
  o += key;
  o += "\":\"";
  for (char c : v) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          o += buf;
        } else {
          o += c;
        }
    }
  }
  o += "\",";
}

void put_number(std::string& o, const char* key, double v) {
  char buf[64];
  if (!std::isfinite(v)) {
    std::snprintf(buf, sizeof buf, "\"%s\":null,", key);
  } else {
    std::snprintf(buf, sizeof buf, "\"%s\":%.1f,", key, v);
  }
  o += buf;
}

void put_uint(std::string& o, const char* key, std::uint64_t v) {
  o += '"';
  o += key;
  o += "\":";
  o += std::to_string(v);
  o += ',';
}

void put_bool(std::string& o, const char* key, bool v) {
  o += '"';
  o += key;
  o += "\":";
  o += v ? "true" : "false";
  o += ',';
}

}  // namespace

std::string to_json(const Verdict& v) {
  std::string o = "{";
  put_uint(o, "batch", v.batch_id);
  put_uint(o, "time_us", static_cast<std::uint64_t>(v.unix_time_us));
  put_string(o, "device", v.device);
  put_string(o, "backend", v.backend);
  put_string(o, "kernel", v.kernel);
  put_string(o, "variant", v.variant);
  put_uint(o, "items", v.items);
  put_uint(o, "max_grid", v.max_grid);
  put_bool(o, "sequential", v.sequential);
  put_string(o, "mode", std::string(policy::to_string(v.mode)));
  put_bool(o, "forced", v.forced);
  o += "\"predicted_ns\":{";
  for (std::size_t m = 0; m < 3; ++m) {
    char buf[64];
    const char* name = policy::to_string(static_cast<LaunchMode>(m)).data();
    if (v.predicted_ns[m] < 0) {
      std::snprintf(buf, sizeof buf, "\"%s\":null%s", name, m < 2 ? "," : "");
    } else {
      std::snprintf(buf, sizeof buf, "\"%s\":%.1f%s", name, v.predicted_ns[m], m < 2 ? "," : "");
    }
    o += buf;
  }
  o += "},";
  put_number(o, "measured_ns", v.measured_ns);
  put_number(o, "kernel_ns_per_item", v.kernel_ns_per_item);
  put_bool(o, "resident", v.persistent_was_resident);
  put_uint(o, "items_run", v.items_run);
  put_uint(o, "items_failed", v.items_failed);
  put_bool(o, "watchdog", v.watchdog_fired);
  put_uint(o, "fallback_items", v.fallback_items);
  put_string(o, "race_role", v.race_role);
  put_string(o, "race_verdict", v.race_verdict);
  put_string(o, "race_baseline", v.race_baseline);
  put_string(o, "race_speculative", v.race_speculative);
  put_uint(o, "race_baseline_n", v.race_baseline_count);
  put_uint(o, "race_speculative_n", v.race_speculative_count);
  put_number(o, "race_baseline_mean_ns", v.race_baseline_mean_ns);
  put_number(o, "race_speculative_mean_ns", v.race_speculative_mean_ns);
  put_string(o, "failure", v.failure);
  o.back() = '}';
  return o;
}

JsonLinesSink::JsonLinesSink(const std::string& path) {
  f_ = std::fopen(path.c_str(), "a");
  if (f_ == nullptr) {
    throw Error(Errc::invalid_argument, "cannot open telemetry file '" + path + "' for appending",
                "fopen", std::strerror(errno), __FILE__, __LINE__);
  }
}

JsonLinesSink::~JsonLinesSink() {
  if (f_ != nullptr) std::fclose(f_);
}

void JsonLinesSink::on_verdict(const Verdict& v) {
  std::string line = to_json(v);
  line += '\n';
  std::lock_guard lk(mu_);
  std::fwrite(line.data(), 1, line.size(), f_);
  std::fflush(f_);
}

}  // namespace spool
