#include "telemetry_summary.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <ostream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "text.hpp"

namespace spool::cli {

namespace {

constexpr std::size_t idx(LaunchMode m) { return static_cast<std::size_t>(m); }

unsigned log2_floor(std::uint64_t v) { return v == 0 ? 0 : static_cast<unsigned>(std::bit_width(v) - 1); }

// Where measurements are comparable: same device, kernel variant and shape bucket.
using BucketKey = std::tuple<std::string, std::string, std::string, unsigned, unsigned>;
BucketKey bucket_of(const TelemetryEvent& e) {
  return {e.device, e.kernel, e.variant, log2_floor(e.items), log2_floor(e.max_grid)};
}

using GroupKey = std::tuple<std::string, std::string, std::size_t>;

std::string pct(double fraction) {
  const double p = 100.0 * fraction;
  return (p >= 0 ? "+" : "") + fixed(p, std::fabs(p) < 10 ? 1 : 0) + "%";
}

std::string three(const Percentiles& p, std::string (*f)(double)) {
  if (p.n == 0) return "-";
  return f(p.p50) + " / " + f(p.p90) + " / " + f(p.p99);
}

nlohmann::ordered_json pj(const Percentiles& p) {
  nlohmann::ordered_json j{{"n", p.n}};
  if (p.n == 0) return j;
  j["p10"] = p.p10;
  j["p50"] = p.p50;
  j["p90"] = p.p90;
  j["p99"] = p.p99;
  return j;
}

}  // namespace

Percentiles percentiles(std::vector<double>& v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  const auto rank = [&](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, r == 0 ? 0 : r - 1)];
  };
  p.p10 = rank(0.10);
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  return p;
}

Summary summarize(const TelemetryLog& log) {
  Summary s;
  s.lines = log.lines;
  s.events = log.events.size();
  for (const auto& e : log.skipped) s.skipped.push_back(e.what());

  std::map<std::pair<std::int64_t, std::string>, std::uint64_t> runs;
  std::uint64_t first = UINT64_MAX, last = 0;
  // Per bucket and mode: per-item times of successful batches.
  std::map<BucketKey, std::array<std::vector<double>, 3>> bucket_times;
  for (const auto& e : log.events) {
    runs[{e.pid, e.run_id}] += 1;
    first = std::min(first, e.submit_ns);
    last = std::max(last, e.end_ns);
    if (e.items > 0 && e.ok()) bucket_times[bucket_of(e)][idx(e.mode)].push_back(e.per_item_ns());
  }
  for (const auto& [k, n] : runs) s.runs.push_back({k.first, k.second, n});
  if (!log.events.empty()) s.span_ns = static_cast<double>(last - first);
  std::map<BucketKey, std::array<double, 3>> bucket_median;  // < 0: too few samples
  for (auto& [k, modes] : bucket_times) {
    auto& med = bucket_median[k];
    for (std::size_t m = 0; m < 3; ++m) {
      med[m] = modes[m].size() >= Summary::kMinSamples ? percentiles(modes[m]).p50 : -1;
    }
  }

  struct Acc {
    GroupSummary g;
    std::vector<double> per_item, batch, queue, err;
  };
  std::map<GroupKey, Acc> groups;
  for (const auto& e : log.events) {
    Acc& a = groups[{e.device, e.kernel, idx(e.mode)}];
    GroupSummary& g = a.g;
    g.device = e.device;
    g.kernel = e.kernel;
    g.mode = e.mode;
    g.batches += 1;
    g.items += e.items;
    g.forced += e.forced;
    g.exploration += !e.forced && e.exploration;
    g.automatic += e.automatic();
    g.first_use_ns += e.first_use_ns;
    if (!e.ok()) {
      g.failed_batches += 1;
      g.failed_items += e.items_failed;
    }
    g.watchdog += e.watchdog;
    g.fallback_items += e.fallback_items;
    if (e.items == 0) continue;
    a.per_item.push_back(e.per_item_ns());
    a.batch.push_back(e.measured_ns);
    a.queue.push_back(e.queue_ns());
    const double pred = e.predicted_ns[idx(e.mode)];
    if (pred > 0) a.err.push_back(e.measured_ns / pred - 1.0);
    if (!e.automatic()) continue;
    for (std::size_t m = 0; m < 3; ++m) {
      if (m != idx(e.mode) && e.predicted_ns[m] >= 0 && e.predicted_ns[m] < pred) {
        g.mispredicted_by_prediction += 1;
        break;
      }
    }
    const auto& med = bucket_median[bucket_of(e)];
    if (med[idx(e.mode)] > 0) {
      for (std::size_t m = 0; m < 3; ++m) {
        if (m != idx(e.mode) && med[m] >= 0 && med[m] * (1.0 + Summary::kSlack) < med[idx(e.mode)]) {
          g.mispredicted_by_measurement += 1;
          break;
        }
      }
    }
  }
  for (auto& [k, a] : groups) {
    a.g.per_item_ns = percentiles(a.per_item);
    a.g.batch_ns = percentiles(a.batch);
    a.g.queue_ns = percentiles(a.queue);
    a.g.prediction_error = percentiles(a.err);
    s.groups.push_back(std::move(a.g));
  }
  return s;
}

void print_summary(std::ostream& os, const Summary& s, const std::string& source) {
  os << source << ": " << s.events << " events";
  if (!s.skipped.empty()) os << " (" << s.skipped.size() << " invalid lines skipped)";
  os << " from " << s.runs.size() << (s.runs.size() == 1 ? " run" : " runs");
  if (s.events > 0) os << " over " << duration(s.span_ns);
  os << "\n";
  constexpr std::size_t kRunsShown = 8;
  for (std::size_t i = 0; i < s.runs.size() && i < kRunsShown; ++i) {
    const RunSummary& r = s.runs[i];
    os << "  run " << r.run_id << " (pid " << r.pid << "): " << r.batches << (r.batches == 1 ? " batch\n" : " batches\n");
  }
  if (s.runs.size() > kRunsShown) os << "  ... and " << s.runs.size() - kRunsShown << " more runs (--json lists all)\n";
  if (s.groups.empty()) return;

  std::string device;
  for (std::size_t i = 0; i < s.groups.size();) {
    device = s.groups[i].device;
    std::size_t end = i;
    while (end < s.groups.size() && s.groups[end].device == device) ++end;
    os << "\ndevice " << device << "\n";
    os << "  time (per item p50 / p90 / p99; queue wait = submit to start of execution)\n";
    Table t({"kernel", "mode", "batches", "items", "per item", "batch p50", "queue wait p50", "first use"});
    for (std::size_t g = i; g < end; ++g) {
      const GroupSummary& x = s.groups[g];
      t.add({x.kernel, std::string(policy::to_string(x.mode)), std::to_string(x.batches),
             std::to_string(x.items), three(x.per_item_ns, duration),
             x.batch_ns.n ? duration(x.batch_ns.p50) : "-", x.queue_ns.n ? duration(x.queue_ns.p50) : "-",
             x.first_use_ns > 0 ? duration(x.first_use_ns) : "-"});
    }
    t.print(os, "    ");
    os << "  decisions (prediction error = measured / predicted - 1, p10 / p50 / p90)\n";
    Table d({"kernel", "mode", "auto", "forced", "explore", "prediction error", "mispredicted (pred / meas)", "failed"});
    for (std::size_t g = i; g < end; ++g) {
      const GroupSummary& x = s.groups[g];
      std::string err = "-";
      if (x.prediction_error.n) {
        err = pct(x.prediction_error.p10) + " / " + pct(x.prediction_error.p50) + " / " +
              pct(x.prediction_error.p90);
      }
      std::string failed = std::to_string(x.failed_batches);
      if (x.watchdog) failed += " (watchdog " + std::to_string(x.watchdog) + ")";
      d.add({x.kernel, std::string(policy::to_string(x.mode)), std::to_string(x.automatic),
             std::to_string(x.forced), std::to_string(x.exploration), err,
             std::to_string(x.mispredicted_by_prediction) + " / " + std::to_string(x.mispredicted_by_measurement),
             failed});
    }
    d.print(os, "    ");
    i = end;
  }
  os << "\nmispredicted: automatic batches for which another mode was predicted cheaper, or measured\n"
        "more than "
     << fixed(Summary::kSlack * 100, 0) << "% faster (median per item, >= " << Summary::kMinSamples
     << " batches, same kernel variant and shape bucket).\n";
}

std::string summary_json(const Summary& s, const std::string& source) {
  nlohmann::ordered_json j;
  j["source"] = source;
  j["lines"] = s.lines;
  j["events"] = s.events;
  j["skipped"] = s.skipped;
  j["span_ns"] = s.span_ns;
  j["runs"] = nlohmann::ordered_json::array();
  for (const auto& r : s.runs) j["runs"].push_back({{"pid", r.pid}, {"run_id", r.run_id}, {"batches", r.batches}});
  j["groups"] = nlohmann::ordered_json::array();
  for (const auto& g : s.groups) {
    nlohmann::ordered_json o;
    o["device"] = g.device;
    o["kernel"] = g.kernel;
    o["mode"] = std::string(policy::to_string(g.mode));
    o["batches"] = g.batches;
    o["items"] = g.items;
    o["automatic"] = g.automatic;
    o["forced"] = g.forced;
    o["exploration"] = g.exploration;
    o["per_item_ns"] = pj(g.per_item_ns);
    o["batch_ns"] = pj(g.batch_ns);
    o["queue_wait_ns"] = pj(g.queue_ns);
    o["prediction_error"] = pj(g.prediction_error);
    o["mispredicted_by_prediction"] = g.mispredicted_by_prediction;
    o["mispredicted_by_measurement"] = g.mispredicted_by_measurement;
    o["failed_batches"] = g.failed_batches;
    o["failed_items"] = g.failed_items;
    o["watchdog"] = g.watchdog;
    o["fallback_items"] = g.fallback_items;
    o["first_use_ns"] = g.first_use_ns;
    j["groups"].push_back(o);
  }
  return j.dump(2);
}

}  // namespace spool::cli
