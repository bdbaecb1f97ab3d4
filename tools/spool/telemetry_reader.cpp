#include "telemetry_reader.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

namespace spool::cli {

namespace {

using json = nlohmann::json;

// Thrown inside parse_event, turned into a TelemetryError with the line.
struct Bad {
  std::string reason;
};

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a fractional number";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
  }
  return "?";
}

const json& field(const json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end()) throw Bad{std::string("missing field '") + key + "'"};
  return *it;
}

[[noreturn]] void wrong(const char* key, const char* want, const json& v) {
  throw Bad{std::string("field '") + key + "' must be " + want + ", found " + type_name(v)};
}

std::string str(const json& o, const char* key) {
  const json& v = field(o, key);
  if (!v.is_string()) wrong(key, "a string", v);
  return v.get<std::string>();
}

bool boolean(const json& o, const char* key) {
  const json& v = field(o, key);
  if (!v.is_boolean()) wrong(key, "a boolean", v);
  return v.get<bool>();
}

std::uint64_t u64(const json& o, const char* key) {
  const json& v = field(o, key);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    if (v.get<std::int64_t>() < 0) throw Bad{std::string("field '") + key + "' must not be negative"};
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  wrong(key, "a non-negative integer", v);
}

std::int64_t i64(const json& o, const char* key) {
  const json& v = field(o, key);
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<std::int64_t>();
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.get<std::uint64_t>());
  }
  wrong(key, "an integer (64-bit)", v);
}

// A finite, non-negative number (integer or fractional).
double num(const json& v, const char* key) {
  if (!v.is_number()) wrong(key, "a number", v);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0) throw Bad{std::string("field '") + key + "' must be finite and not negative"};
  return d;
}
double num(const json& o, const char* key, int) { return num(field(o, key), key); }

// Arrays and objects nested deeper than this are refused before parsing.
constexpr int kMaxDepth = 16;

void check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) throw Bad{"nested deeper than " + std::to_string(kMaxDepth) + " levels"};
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

std::string parse_error_reason(const json::parse_error& e) {
  // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
  std::string m = e.what();
  const auto at = m.find("parse error");
  if (at != std::string::npos) m.erase(0, at);
  const auto line = m.find("at line 1, ");
  if (line != std::string::npos) m.erase(line, 11);
  return "not JSON: " + m;
}

TelemetryEvent decode(const json& o) {
  if (!o.is_object()) throw Bad{std::string("must be a JSON object, found ") + type_name(o)};
  const auto sv = o.find("schema_version");
  if (sv == o.end()) {
    throw Bad{"no 'schema_version': not a Spool telemetry event (or one written before schema version 1)"};
  }
  if (!sv->is_number_integer()) wrong("schema_version", "an integer", *sv);
  const std::int64_t version = sv->get<std::int64_t>();
  if (version != kReadableSchemaVersion) {
    throw Bad{"schema_version " + std::to_string(version) + " is not one this spool reads (" +
              std::to_string(kReadableSchemaVersion) + ")"};
  }
  TelemetryEvent e;
  e.schema_version = static_cast<int>(version);
  e.pid = i64(o, "pid");
  e.run_id = str(o, "run_id");
  e.batch = u64(o, "batch");
  e.time_us = i64(o, "time_us");
  e.submit_ns = u64(o, "submit_ns");
  e.start_ns = u64(o, "start_ns");
  e.end_ns = u64(o, "end_ns");
  if (e.start_ns < e.submit_ns) throw Bad{"start_ns is before submit_ns"};
  if (e.end_ns < e.start_ns) throw Bad{"end_ns is before start_ns"};
  e.device = str(o, "device");
  e.backend = str(o, "backend");
  e.kernel = str(o, "kernel");
  e.variant = str(o, "variant");
  e.items = u64(o, "items");
  e.max_grid = u64(o, "max_grid");
  e.sequential = boolean(o, "sequential");
  const std::string mode = str(o, "mode");
  if (!policy::parse_launch_mode(mode, e.mode)) {
    throw Bad{"field 'mode' is '" + mode + "', not launches, recorded or persistent"};
  }
  e.forced = boolean(o, "forced");
  e.exploration = boolean(o, "exploration");
  const json& pred = field(o, "predicted_ns");
  if (!pred.is_object()) wrong("predicted_ns", "an object", pred);
  for (std::size_t m = 0; m < 3; ++m) {
    const std::string name(policy::to_string(static_cast<LaunchMode>(m)));
    const auto it = pred.find(name);
    if (it == pred.end()) throw Bad{"missing field 'predicted_ns." + name + "'"};
    const std::string key = "predicted_ns." + name;
    e.predicted_ns[m] = it->is_null() ? -1.0 : num(*it, key.c_str());
  }
  e.measured_ns = num(o, "measured_ns", 0);
  e.kernel_ns_per_item = num(o, "kernel_ns_per_item", 0);
  e.first_use_ns = num(o, "first_use_ns", 0);
  e.parked_ns = num(o, "parked_ns", 0);
  e.resident = boolean(o, "resident");
  e.items_run = u64(o, "items_run");
  e.items_failed = u64(o, "items_failed");
  e.watchdog = boolean(o, "watchdog");
  e.fallback_items = u64(o, "fallback_items");
  e.race_role = str(o, "race_role");
  e.race_verdict = str(o, "race_verdict");
  e.race_baseline = str(o, "race_baseline");
  e.race_speculative = str(o, "race_speculative");
  e.race_baseline_n = u64(o, "race_baseline_n");
  e.race_speculative_n = u64(o, "race_speculative_n");
  e.race_baseline_mean_ns = num(o, "race_baseline_mean_ns", 0);
  e.race_speculative_mean_ns = num(o, "race_speculative_mean_ns", 0);
  e.failure = str(o, "failure");
  return e;
}

bool blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

TelemetryError::TelemetryError(std::string source, std::size_t line, std::string reason)
    : std::runtime_error(source + ":" + std::to_string(line) + ": " + reason),
      source_(std::move(source)),
      line_(line),
      reason_(std::move(reason)) {}

TelemetryEvent parse_event(std::string_view text, std::string_view source, std::size_t line) {
  try {
    if (text.size() > kMaxLineBytes) {
      throw Bad{"line longer than " + std::to_string(kMaxLineBytes) + " bytes"};
    }
    check_depth(text);
    json o;
    try {
      o = json::parse(text);
    } catch (const json::parse_error& e) {
      throw Bad{parse_error_reason(e)};
    }
    TelemetryEvent ev = decode(o);
    ev.line = line;
    return ev;
  } catch (const Bad& b) {
    throw TelemetryError(std::string(source), line, b.reason);
  } catch (const std::exception& e) {  // e.g. an allocation failure: still a clear error
    throw TelemetryError(std::string(source), line, e.what());
  }
}

TelemetryLog read_telemetry(std::istream& in, std::string_view source, bool skip_invalid) {
  TelemetryLog log;
  std::string text;
  while (std::getline(in, text)) {
    ++log.lines;
    if (blank(text)) continue;
    try {
      log.events.push_back(parse_event(text, source, log.lines));
    } catch (const TelemetryError& e) {
      if (!skip_invalid) throw;
      log.skipped.push_back(e);
    }
  }
  if (in.bad()) throw std::runtime_error(std::string(source) + ": read error after line " + std::to_string(log.lines));
  return log;
}

TelemetryLog read_telemetry_file(const std::string& path, bool skip_invalid) {
  if (path == "-") return read_telemetry(std::cin, "<stdin>", skip_invalid);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error("cannot read telemetry file '" + path + "': it is a directory");
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read telemetry file '" + path + "': " + std::strerror(errno));
  return read_telemetry(f, path, skip_invalid);
}

}  // namespace spool::cli
