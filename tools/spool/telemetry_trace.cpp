#include "telemetry_trace.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

namespace spool::cli {

namespace {

using json = nlohmann::ordered_json;

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

json args_of(const TelemetryEvent& e) {
  json a;
  a["batch"] = e.batch;
  a["kernel"] = e.kernel;
  a["variant"] = e.variant;
  a["items"] = e.items;
  a["max_grid"] = e.max_grid;
  a["mode"] = std::string(policy::to_string(e.mode));
  a["forced"] = e.forced;
  a["exploration"] = e.exploration;
  for (std::size_t m = 0; m < 3; ++m) {
    const std::string key = "predicted_us." + std::string(policy::to_string(static_cast<LaunchMode>(m)));
    a[key] = e.predicted_ns[m] < 0 ? json(nullptr) : json(e.predicted_ns[m] / 1000.0);
  }
  a["measured_us"] = e.measured_ns / 1000.0;
  a["queue_wait_us"] = e.queue_ns() / 1000.0;
  a["first_use_us"] = e.first_use_ns / 1000.0;
  a["parked_us"] = e.parked_ns / 1000.0;
  a["resident"] = e.resident;
  a["items_run"] = e.items_run;
  a["items_failed"] = e.items_failed;
  a["watchdog"] = e.watchdog;
  a["fallback_items"] = e.fallback_items;
  if (!e.race_role.empty()) {
    a["race"] = e.race_role + " " + e.race_verdict + " (" + e.race_baseline + " vs " + e.race_speculative + ")";
  }
  if (!e.failure.empty()) a["failure"] = e.failure;
  a["line"] = e.line;
  return a;
}

}  // namespace

std::string chrome_trace(const std::vector<TelemetryEvent>& events) {
  // Processes: one per (run, device), numbered in order of appearance.
  std::map<std::tuple<std::int64_t, std::string, std::string>, int> procs;
  std::vector<const TelemetryEvent*> order;
  for (const auto& e : events) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
                   [](const TelemetryEvent* a, const TelemetryEvent* b) { return a->submit_ns < b->submit_ns; });

  json trace = json::array();
  // Lanes per (process, mode): the end time of the last slice on each lane,
  // so that slices on one track never overlap (they nest only as parent/child).
  std::map<std::pair<int, std::size_t>, std::vector<std::uint64_t>> lanes;
  std::map<std::pair<int, int>, std::string> thread_names;
  for (const TelemetryEvent* e : order) {
    const auto key = std::make_tuple(e->pid, e->run_id, e->device);
    auto [it, fresh] = procs.try_emplace(key, static_cast<int>(procs.size()) + 1);
    const int pid = it->second;
    if (fresh) {
      trace.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"tid", 0},
                       {"args", {{"name", e->device + " (pid " + std::to_string(e->pid) + ", run " + e->run_id + ")"}}}});
      trace.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", pid}, {"tid", 0},
                       {"args", {{"sort_index", pid}}}});
    }
    const auto m = static_cast<std::size_t>(e->mode);
    auto& ends = lanes[{pid, m}];
    std::size_t lane = 0;
    while (lane < ends.size() && ends[lane] > e->submit_ns) ++lane;
    if (lane == ends.size()) ends.push_back(0);
    ends[lane] = e->end_ns;
    const int tid = static_cast<int>(m * 1000 + lane + 1);
    if (thread_names.try_emplace({pid, tid}, "").second) {
      std::string name(policy::to_string(e->mode));
      if (lane > 0) name += " #" + std::to_string(lane + 1);
      trace.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}});
      trace.push_back({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", pid}, {"tid", tid},
                       {"args", {{"sort_index", tid}}}});
    }
    std::string name = e->kernel + " x" + std::to_string(e->items);
    if (!e->ok()) name += " FAILED";
    trace.push_back({{"ph", "X"}, {"name", name}, {"cat", "batch"}, {"pid", pid}, {"tid", tid},
                     {"ts", us(e->submit_ns)}, {"dur", us(e->end_ns - e->submit_ns)}, {"args", args_of(*e)}});
    if (e->start_ns > e->submit_ns) {
      trace.push_back({{"ph", "X"}, {"name", "queue wait"}, {"cat", "wait"}, {"pid", pid}, {"tid", tid},
                       {"ts", us(e->submit_ns)}, {"dur", us(e->start_ns - e->submit_ns)}});
    }
    trace.push_back({{"ph", "X"}, {"name", "execute"}, {"cat", "execute"}, {"pid", pid}, {"tid", tid},
                     {"ts", us(e->start_ns)}, {"dur", us(e->end_ns - e->start_ns)}});
  }
  json doc;
  doc["traceEvents"] = std::move(trace);
  doc["displayTimeUnit"] = "ns";
  doc["otherData"] = {{"producer", "spool telemetry trace"},
                      {"clock", "CLOCK_MONOTONIC (steady_clock), microseconds"}};
  return doc.dump(1, ' ', false, json::error_handler_t::replace);
}

}  // namespace spool::cli
