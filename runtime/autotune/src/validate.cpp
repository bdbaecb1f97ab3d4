// The limits of stored values: checked on every write, on import and when a
// row is read back, so that no corrupted or hand-edited row steers a decision.
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "store_impl.hpp"

namespace spool::autotune {

namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string time_problem(const char* field, double v) {
  if (std::isfinite(v) && v >= 0 && v <= kMaxNs) return {};
  return std::string("field '") + field + "' = " + num(v) + " is not a finite time in [0, " + num(kMaxNs) +
         "] ns";
}

std::string text_problem(const char* field, std::string_view v, bool may_be_empty) {
  if (v.empty() && !may_be_empty) return std::string("field '") + field + "' is empty";
  if (v.size() > kMaxKeyChars) {
    return std::string("field '") + field + "' is " + std::to_string(v.size()) + " characters long (at most " +
           std::to_string(kMaxKeyChars) + ")";
  }
  if (v.find('\0') != std::string_view::npos) return std::string("field '") + field + "' contains a NUL character";
  return {};
}

}  // namespace

std::string problem(const LaunchProfileRecord& r) {
  for (const auto& [field, v] : {std::pair{"launch_ns", r.launch_ns}, std::pair{"record_setup_ns", r.record_setup_ns},
                                 std::pair{"replay_ns", r.replay_ns},
                                 std::pair{"persistent_setup_ns", r.persistent_setup_ns},
                                 std::pair{"queue_item_ns", r.queue_item_ns}}) {
    if (std::string p = time_problem(field, v); !p.empty()) return p;
  }
  if (r.samples > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return "field 'samples' = " + std::to_string(r.samples) + " exceeds 2^63-1";
  }
  if (r.measured_at_unix < 0 || r.measured_at_unix > kMaxUnixTime) {
    return "field 'measured_at_unix' = " + std::to_string(r.measured_at_unix) + " is not in [0, " +
           std::to_string(kMaxUnixTime) + "]";
  }
  return {};
}

std::string problem(const Observation& o) {
  if (o.count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return "field 'count' = " + std::to_string(o.count) + " exceeds 2^63-1";
  }
  if (std::string p = time_problem("mean_ns", o.mean_ns); !p.empty()) return p;
  const double max_m2 = static_cast<double>(o.count) * kMaxNs * kMaxNs;
  if (!std::isfinite(o.m2) || o.m2 < 0 || o.m2 > max_m2) {
    return "field 'm2' = " + num(o.m2) + " is not in [0, count * " + num(kMaxNs) + "^2] (count " +
           std::to_string(o.count) + ")";
  }
  if (o.count == 0 && o.mean_ns != 0) return "field 'mean_ns' = " + num(o.mean_ns) + " with count 0 (must be 0)";
  if (o.count < 2 && o.m2 != 0) {
    return "field 'm2' = " + num(o.m2) + " with count " + std::to_string(o.count) + " (must be 0 below 2 samples)";
  }
  return {};
}

std::string problem(const DeviceKey& d, std::string_view spool_version) {
  if (d.backend != "vulkan" && d.backend != "cuda") {
    return "field 'backend' = '" + d.backend.substr(0, 64) + "' is not vulkan or cuda";
  }
  for (const auto& [field, v, empty_ok] :
       {std::tuple{"uuid", std::string_view(d.uuid), true}, std::tuple{"device_name", std::string_view(d.name), false},
        std::tuple{"driver_version", std::string_view(d.driver_version), false},
        std::tuple{"api_version", std::string_view(d.api_version), false},
        std::tuple{"spool_version", spool_version, false}}) {
    if (std::string p = text_problem(field, v, empty_ok); !p.empty()) return p;
  }
  return {};
}

std::string problem(const KernelKey& k, ShapeBucket b, std::string_view variant) {
  for (const auto& [field, v] : {std::pair{"kernel", std::string_view(k.kernel)},
                                 std::pair{"source_hash", std::string_view(k.source_hash)},
                                 std::pair{"variant", variant}}) {
    if (std::string p = text_problem(field, v, false); !p.empty()) return p;
  }
  if (b.log2_items > 63) return "field 'log2_items' = " + std::to_string(b.log2_items) + " is not in [0, 63]";
  if (b.log2_grid > 63) return "field 'log2_grid' = " + std::to_string(b.log2_grid) + " is not in [0, 63]";
  return {};
}

namespace detail {

std::string describe_row(const DeviceKey& d, const std::string& spool_version, const KernelKey* k) {
  std::string s = d.backend + " '" + d.name + "' driver " + d.driver_version + " api " + d.api_version + " spool " +
                  spool_version;
  if (k != nullptr) s += ", kernel " + k->kernel + " (" + k->source_hash + ")";
  return s;
}

void check_value(const std::string& problem, const char* call, const std::string& row, const std::string& path) {
  if (!problem.empty()) throw Error(call, row + ": " + problem, path, Errc::invalid_argument);
}

}  // namespace detail
}  // namespace spool::autotune
