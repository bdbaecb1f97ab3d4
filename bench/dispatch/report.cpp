#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>

namespace bench {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The medians of one strategy's timed (non-warm-up) runs of one size.
struct Cell {
  double per_item_ns = kNaN;
  double build_per_item_ns = kNaN;
  double pred_err = kNaN;  // median of (predicted - measured) / measured
  std::uint64_t items = 0, items_run = 0;
  int reps = 0;
  bool failed = false;
  std::string mode;  // the most common mode
  int mode_votes = 0;
};

Cell cell_of(std::span<const Measurement> runs, Strategy s) {
  Cell c;
  std::vector<double> per_item, build, err;
  std::map<std::string, int> modes;
  for (const Measurement& m : runs) {
    if (m.strategy != s || m.warmup) continue;
    per_item.push_back(m.per_item_ns());
    if (m.items_run != 0) build.push_back(m.build_ns / static_cast<double>(m.items_run));
    const double e = m.prediction_error();
    if (!std::isnan(e)) err.push_back(e);
    ++modes[m.mode];
    c.items = m.items;
    c.items_run = m.items_run;
    c.failed |= !m.failure.empty();
    ++c.reps;
  }
  c.per_item_ns = median(per_item);
  c.build_per_item_ns = median(build);
  c.pred_err = median(err);
  for (const auto& [name, votes] : modes) {
    if (votes > c.mode_votes) {
      c.mode = name;
      c.mode_votes = votes;
    }
  }
  return c;
}

std::string us(double ns) {
  if (std::isnan(ns)) return "-";
  const double v = ns / 1e3;
  char b[32];
  std::snprintf(b, sizeof b, v < 10 ? "%.3f" : v < 100 ? "%.2f" : v < 10000 ? "%.1f" : "%.0f", v);
  return b;
}

std::string ratio(double r) {
  if (std::isnan(r) || std::isinf(r)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, r < 10 ? "%.2f" : "%.1f", r);
  return b;
}

std::string percent(double e) {
  if (std::isnan(e)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%+.0f%%", e * 100);
  return b;
}

std::string unsigned_percent(double e) {
  if (std::isnan(e)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.0f %%", e * 100);
  return b;
}

const char* column_title(Strategy s) {
  switch (s) {
    case Strategy::launches: return "launches";
    case Strategy::recorded: return "recorded";
    case Strategy::persistent: return "persist.";
    case Strategy::automatic: return "auto";
    case Strategy::raw_submit: return "raw-submit";
    case Strategy::raw_cmdbuf: return "raw-cmdbuf";
    case Strategy::raw_resident: return "raw-resid.";
  }
  return "?";
}

bool has(std::span<const Strategy> cols, Strategy s) { return std::find(cols.begin(), cols.end(), s) != cols.end(); }

// The best forced mode of a size: its index (as Strategy) and per-item ns.
std::pair<Strategy, double> best_forced(std::span<const Measurement> runs) {
  Strategy best = Strategy::automatic;
  double best_ns = kNaN;
  for (Strategy s : {Strategy::launches, Strategy::recorded, Strategy::persistent}) {
    const double ns = cell_of(runs, s).per_item_ns;
    if (!std::isnan(ns) && (std::isnan(best_ns) || ns < best_ns)) {
      best = s;
      best_ns = ns;
    }
  }
  return {best, best_ns};
}

// Groups the sizes-phase measurements by section (kernel, ordering, in order
// of appearance) and by size within it.
struct SizeGroup {
  std::uint64_t items = 0;
  std::vector<Measurement> runs;
};
struct Section {
  std::string kernel, ordering;
  std::uint32_t grid = 0;
  std::vector<SizeGroup> sizes;
};

std::vector<Section> sections_of(const std::vector<Measurement>& all) {
  std::vector<Section> out;
  for (const Measurement& m : all) {
    if (m.phase != "sizes") continue;
    auto sec = std::find_if(out.begin(), out.end(),
                            [&](const Section& s) { return s.kernel == m.kernel && s.ordering == m.ordering; });
    if (sec == out.end()) {
      out.push_back({m.kernel, m.ordering, m.grid, {}});
      sec = out.end() - 1;
    }
    auto g = std::find_if(sec->sizes.begin(), sec->sizes.end(), [&](const SizeGroup& s) { return s.items == m.items; });
    if (g == sec->sizes.end()) {
      sec->sizes.push_back({m.items, {}});
      g = sec->sizes.end() - 1;
    }
    g->runs.push_back(m);
  }
  return out;
}

const char* verdict(bool met) { return met ? "[met]   " : "[MISSED]"; }

}  // namespace

const char* to_string(Strategy s) noexcept {
  switch (s) {
    case Strategy::launches: return "launches";
    case Strategy::recorded: return "recorded";
    case Strategy::persistent: return "persistent";
    case Strategy::automatic: return "auto";
    case Strategy::raw_submit: return "raw-submit";
    case Strategy::raw_cmdbuf: return "raw-cmdbuf";
    case Strategy::raw_resident: return "raw-resident";
  }
  return "?";
}

const char* to_string(MixedDist d) noexcept { return d == MixedDist::uniform ? "uniform" : "log-uniform"; }

double Measurement::prediction_error() const {
  if (predicted_ns < 0 || measured_ns <= 0) return kNaN;
  return (predicted_ns - measured_ns) / measured_ns;
}

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 != 0 ? v[h] : (v[h - 1] + v[h]) / 2;
}

const char* const kCsvColumns =
    "phase,kernel,ordering,grid,items,items_run,strategy,rep,warmup,mode,was_resident,build_ns,run_ns,wall_ns,"
    "wall_ns_per_item,predicted_ns,measured_ns,prediction_error,relaunches,affinity,failure";

Csv::Csv(const std::string& path, std::string affinity) : affinity_(std::move(affinity)) {
  std::replace(affinity_.begin(), affinity_.end(), ',', ' ');  // "0,2" -> "0 2": one field
  f_ = std::fopen(path.c_str(), "w");
  if (f_ == nullptr) throw Error("cannot write --csv " + path + ": " + std::strerror(errno));
  std::fprintf(f_, "%s\n", kCsvColumns);
  std::fflush(f_);
}

Csv::~Csv() {
  if (f_ != nullptr) std::fclose(f_);
}

void Csv::write(const Measurement& m) {
  std::string failure = m.failure;  // no commas or quotes inside a field
  std::replace(failure.begin(), failure.end(), ',', ';');
  std::replace(failure.begin(), failure.end(), '"', '\'');
  const double err = m.prediction_error();
  std::fprintf(f_, "%s,%s,%s,%u,%llu,%llu,%s,%d,%d,%s,%d,%.0f,%.0f,%.0f,%.1f,", m.phase.c_str(), m.kernel.c_str(),
               m.ordering.c_str(), m.grid, static_cast<unsigned long long>(m.items),
               static_cast<unsigned long long>(m.items_run), to_string(m.strategy), m.rep, m.warmup ? 1 : 0,
               m.mode.c_str(), m.was_resident ? 1 : 0, m.build_ns, m.run_ns, m.wall_ns, m.per_item_ns());
  if (m.predicted_ns >= 0) std::fprintf(f_, "%.0f", m.predicted_ns);
  std::fputc(',', f_);
  if (m.measured_ns >= 0) std::fprintf(f_, "%.0f", m.measured_ns);
  std::fputc(',', f_);
  if (!std::isnan(err)) std::fprintf(f_, "%.4f", err);
  std::fprintf(f_, ",%u,%s,%s\n", m.relaunches, affinity_.c_str(), failure.c_str());
  std::fflush(f_);
}

void print_size_header(std::FILE* out, const std::string& title, std::span<const Strategy> columns) {
  std::fprintf(out, "\n%s\n", title.c_str());
  std::fprintf(out, "%8s %8s", "items", "build");
  for (Strategy s : columns) {
    if (s == Strategy::automatic) continue;
    std::fprintf(out, " %10s", column_title(s));
  }
  if (has(columns, Strategy::automatic)) {
    std::fprintf(out, " %10s %-16s %-10s %9s %8s", "auto", "auto mode", "best", "auto/best", "pred.err");
  }
  if (has(columns, Strategy::raw_resident) && has(columns, Strategy::persistent)) {
    std::fprintf(out, " %10s", "pers/resid");
  }
  std::fputc('\n', out);
  std::fflush(out);
}

void print_size_row(std::FILE* out, std::span<const Measurement> runs, std::span<const Strategy> columns) {
  if (runs.empty()) return;
  std::vector<double> build;
  for (Strategy s : kSpoolStrategies) {
    const double b = cell_of(runs, s).build_per_item_ns;
    if (!std::isnan(b)) build.push_back(b);
  }
  std::fprintf(out, "%8llu %8s", static_cast<unsigned long long>(runs.front().items), us(median(build)).c_str());
  for (Strategy s : columns) {
    if (s == Strategy::automatic) continue;
    const Cell c = cell_of(runs, s);
    std::string v = us(c.per_item_ns);
    if (c.items_run != 0 && c.items_run < c.items) v += "*";
    if (c.failed) v += "!";
    std::fprintf(out, " %10s", v.c_str());
  }
  if (has(columns, Strategy::automatic)) {
    const Cell a = cell_of(runs, Strategy::automatic);
    const auto [best, best_ns] = best_forced(runs);
    std::string mode = a.mode;
    if (a.mode_votes != a.reps) mode += " " + std::to_string(a.mode_votes) + "/" + std::to_string(a.reps);
    std::string av = us(a.per_item_ns);
    if (a.failed) av += "!";
    std::fprintf(out, " %10s %-16s %-10s %9s %8s", av.c_str(), mode.c_str(),
                 best == Strategy::automatic ? "-" : to_string(best), ratio(a.per_item_ns / best_ns).c_str(),
                 percent(a.pred_err).c_str());
  }
  if (has(columns, Strategy::raw_resident) && has(columns, Strategy::persistent)) {
    std::fprintf(out, " %10s",
                 ratio(cell_of(runs, Strategy::persistent).per_item_ns / cell_of(runs, Strategy::raw_resident).per_item_ns)
                     .c_str());
  }
  std::fputc('\n', out);
  std::fflush(out);
}

void print_size_notes(std::FILE* out, std::span<const Strategy> columns, std::uint32_t raw_cap) {
  std::fprintf(out,
               "  us per item: wall time from building the Batch to completion / items (median over reps);\n"
               "  build: building the Batch alone; pred.err: auto's (predicted - measured) / measured of the\n"
               "  mode it chose (Verdict::predicted_chosen_ns vs measured_ns); auto mode k/n: chosen in k of n reps;\n"
               "  '!': a run gave a wrong result or a failed verdict (see the summary)\n");
  if (has(columns, Strategy::raw_submit)) {
    std::fprintf(out,
                 "  raw-*: this bench's own Vulkan code, same work as tally grid 1 (see raw_vulkan.hpp);\n"
                 "  '*': raw-submit / raw-cmdbuf ran min(items, %u) dispatches; pers/resid: persistent / raw-resident\n",
                 raw_cap);
  }
}

void print_mixed(std::FILE* out, const std::string& title, std::span<const Measurement> runs) {
  std::fprintf(out, "\n%s\n", title.c_str());
  std::fprintf(out, "%-11s %10s %9s %9s %9s %9s  %s\n", "strategy", "total ms", "build ms", "us/item", "vs best",
               "pred.err", "modes chosen (last rep)");
  double best = kNaN;
  for (Strategy s : {Strategy::launches, Strategy::recorded, Strategy::persistent}) {
    std::vector<double> t;
    for (const Measurement& m : runs) {
      if (m.strategy == s && !m.warmup) t.push_back(m.wall_ns);
    }
    const double med = median(t);
    if (!std::isnan(med) && (std::isnan(best) || med < best)) best = med;
  }
  for (Strategy s : kSpoolStrategies) {
    std::vector<double> t, b, e;
    std::string modes;
    std::uint64_t items = 0;
    bool failed = false;
    for (const Measurement& m : runs) {
      if (m.strategy != s || m.warmup) continue;
      t.push_back(m.wall_ns);
      b.push_back(m.build_ns);
      const double err = m.prediction_error();
      if (!std::isnan(err)) e.push_back(err);
      modes = m.mode;
      items = m.items;
      failed |= !m.failure.empty();
    }
    if (t.empty()) continue;
    const double med = median(t);
    std::fprintf(out, "%-11s %10.1f %9.1f %9s %9s %9s  %s%s\n", to_string(s), med / 1e6, median(b) / 1e6,
                 us(med / static_cast<double>(items)).c_str(), ratio(med / best).c_str(), percent(median(e)).c_str(),
                 modes.c_str(), failed ? "  WRONG RESULT (see summary)" : "");
  }
  std::fflush(out);
}

void print_enqueue(std::FILE* out, std::span<const Measurement> runs) {
  std::vector<double> resident, cold;
  for (const Measurement& m : runs) {
    if (m.warmup) continue;
    (m.was_resident ? resident : cold).push_back(m.run_ns / static_cast<double>(m.items));
  }
  if (runs.empty()) return;
  std::fprintf(out, "\npersistent enqueue: submit() of a %llu-item tally batch right after a persistent batch:\n",
               static_cast<unsigned long long>(runs.front().items));
  std::fprintf(out, "  kernel resident at submit(): %zu reps, median %.0f ns/item\n", resident.size(), median(resident));
  if (!cold.empty()) {
    std::fprintf(out, "  kernel not resident at submit(): %zu reps, median %.0f ns/item (not counted)\n", cold.size(),
                 median(cold));
  }
  std::fflush(out);
}

int print_summary(std::FILE* out, const std::vector<Measurement>& all,
                  const std::vector<BatchPrediction>& mixed_batches, const RunInfo& info) {
  std::fprintf(out, "\n== issue 12 targets (this run; affinity %s%s) ==\n", info.affinity.c_str(),
               info.pinned ? ", pinned" : "");
  std::fprintf(out, "[info]   1. device open incl. calibration or re-validation of the cached profile: %.1f ms "
               "(profile source: %s; the bench cannot time the re-validation alone; target <= 50 ms)\n",
               info.open_ms, info.profile_source.c_str());

  // 2. Prediction errors per mode.
  std::map<std::string, std::vector<double>> sizes_err, mixed_err;
  for (const Measurement& m : all) {
    if (m.phase != "sizes" || m.warmup || is_raw(m.strategy)) continue;
    const double e = m.prediction_error();
    if (!std::isnan(e)) sizes_err[m.mode].push_back(std::fabs(e));
  }
  for (const BatchPrediction& b : mixed_batches) {
    if (b.predicted_ns >= 0 && b.measured_ns > 0) {
      mixed_err[std::string(spool::policy::to_string(b.mode))].push_back(std::fabs(b.predicted_ns - b.measured_ns) /
                                                                      b.measured_ns);
    }
  }
  for (const char* mode : {"launches", "recorded", "persistent"}) {
    std::vector<double> both = sizes_err[mode];
    both.insert(both.end(), mixed_err[mode].begin(), mixed_err[mode].end());
    if (both.empty()) {
      std::fprintf(out, "[n/a]    2. prediction error, %s: no batch ran in this mode\n", mode);
      continue;
    }
    const double med = median(both);
    std::fprintf(out, "%s 2. median |prediction error|, %s: %s over %zu batches (sizes %s of %zu, mixed %s of %zu; "
                 "target <= 15 %%)\n",
                 verdict(med <= 0.15), mode, unsigned_percent(med).c_str(), both.size(),
                 unsigned_percent(median(sizes_err[mode])).c_str(), sizes_err[mode].size(),
                 unsigned_percent(median(mixed_err[mode])).c_str(), mixed_err[mode].size());
  }

  // 3. Auto vs the best forced mode per size.
  int total_within = 0, total_sizes = 0;
  for (const Section& sec : sections_of(all)) {
    int within = 0, sizes = 0;
    double worst = 0;
    std::uint64_t worst_at = 0;
    for (const SizeGroup& g : sec.sizes) {
      const double a = cell_of(g.runs, Strategy::automatic).per_item_ns;
      const double b = best_forced(g.runs).second;
      if (std::isnan(a) || std::isnan(b)) continue;
      ++sizes;
      within += a / b <= 1.05;
      if (a / b > worst) {
        worst = a / b;
        worst_at = g.items;
      }
    }
    if (sizes == 0) continue;
    total_within += within;
    total_sizes += sizes;
    std::fprintf(out, "%s 3. auto within 5 %% of the best forced mode, %s (grid %u) %s: %d of %d sizes (%.0f %%; "
                 "target >= 95 %%); worst auto/best %.2f at %llu items\n",
                 verdict(within >= 0.95 * sizes), sec.kernel.c_str(), sec.grid, sec.ordering.c_str(), within, sizes,
                 100.0 * within / sizes, worst, static_cast<unsigned long long>(worst_at));
  }
  if (total_sizes != 0) {
    std::fprintf(out, "%s 3. all sections: %d of %d sizes (%.0f %%)\n", verdict(total_within >= 0.95 * total_sizes),
                 total_within, total_sizes, 100.0 * total_within / total_sizes);
  }

  // 3. Mixed workloads: auto's total against the best single strategy.
  std::map<std::string, std::vector<const Measurement*>> mixed;
  for (const Measurement& m : all) {
    if (m.phase.rfind("mixed", 0) == 0 && !m.warmup) mixed[m.phase].push_back(&m);
  }
  for (const auto& [phase, runs] : mixed) {
    std::map<Strategy, std::vector<double>> t;
    for (const Measurement* m : runs) t[m->strategy].push_back(m->wall_ns);
    Strategy best = Strategy::automatic;
    double best_ns = kNaN;
    for (Strategy s : {Strategy::launches, Strategy::recorded, Strategy::persistent}) {
      const double v = median(t[s]);
      if (!std::isnan(v) && (std::isnan(best_ns) || v < best_ns)) {
        best = s;
        best_ns = v;
      }
    }
    const double a = median(t[Strategy::automatic]);
    if (std::isnan(a) || std::isnan(best_ns)) continue;
    std::fprintf(out, "%s 3. %s: auto %.1f ms / best single strategy (%s) %.1f ms = %.2f (target <= 0.8)\n",
                 verdict(a / best_ns <= 0.8), phase.c_str(), a / 1e6, to_string(best), best_ns / 1e6, a / best_ns);
  }

  // 4. Persistent mode against the raw floors (tally grid 1, independent):
  // medians over the sizes >= 1000 (where start-up costs are amortised; the
  // largest size alone when the run had none that large).
  for (const Section& sec : sections_of(all)) {
    if (sec.kernel != "tally" || sec.ordering != "independent") continue;
    std::vector<const SizeGroup*> large;
    const SizeGroup* last = nullptr;
    for (const SizeGroup& g : sec.sizes) {
      const double p = cell_of(g.runs, Strategy::persistent).per_item_ns;
      const double r = cell_of(g.runs, Strategy::raw_resident).per_item_ns;
      if (std::isnan(p) || std::isnan(r)) continue;
      last = &g;
      if (g.items >= 1000) large.push_back(&g);
    }
    if (last == nullptr) {
      std::fprintf(out, "[n/a]    4. persistent vs the raw floors: not measured (--no-raw, or persistent unavailable)\n");
      break;
    }
    if (large.empty()) large.push_back(last);
    std::vector<double> pr, sp, sr, lp, cmd, rec;
    for (const SizeGroup* g : large) {
      const double p = cell_of(g->runs, Strategy::persistent).per_item_ns;
      const double r = cell_of(g->runs, Strategy::raw_resident).per_item_ns;
      const double sub = cell_of(g->runs, Strategy::raw_submit).per_item_ns;
      pr.push_back(p / r);
      sp.push_back(sub / p);
      sr.push_back(sub / r);
      lp.push_back(cell_of(g->runs, Strategy::launches).per_item_ns / p);
      cmd.push_back(cell_of(g->runs, Strategy::raw_cmdbuf).per_item_ns);
      rec.push_back(cell_of(g->runs, Strategy::recorded).per_item_ns);
    }
    const auto [lo, hi] = std::minmax_element(pr.begin(), pr.end());
    char over[96];
    std::snprintf(over, sizeof over, "%s %llu items (%zu size%s)", large.size() > 1 ? "medians over sizes >=" : "at",
                  static_cast<unsigned long long>(large.size() > 1 ? 1000 : large.front()->items), large.size(),
                  large.size() > 1 ? "s" : "");
    std::fprintf(out, "%s 4. persistent / raw resident shader, %s: %s (%s .. %s; target <= 1.5); at %llu items %s / %s us\n",
                 verdict(median(pr) <= 1.5), over, ratio(median(pr)).c_str(), ratio(*lo).c_str(), ratio(*hi).c_str(),
                 static_cast<unsigned long long>(last->items),
                 us(cell_of(last->runs, Strategy::persistent).per_item_ns).c_str(),
                 us(cell_of(last->runs, Strategy::raw_resident).per_item_ns).c_str());
    std::fprintf(out, "%s 4. persistent vs raw submit-per-dispatch, %s: %sx faster (target >= 50x; the raw resident "
                 "shader itself: %sx); Spool launches / persistent: %sx\n",
                 verdict(median(sp) >= 50), over, ratio(median(sp)).c_str(), ratio(median(sr)).c_str(),
                 ratio(median(lp)).c_str());
    std::fprintf(out, "[info]   4. raw one command buffer %s us/dispatch vs Spool recorded %s us/item, %s\n",
                 us(median(cmd)).c_str(), us(median(rec)).c_str(), over);
    break;
  }
  std::vector<double> enq;
  int enq_cold = 0;
  for (const Measurement& m : all) {
    if (m.phase != "enqueue" || m.warmup) continue;
    if (m.was_resident) {
      enq.push_back(m.run_ns / static_cast<double>(m.items));
    } else {
      ++enq_cold;
    }
  }
  if (!enq.empty()) {
    const double e = median(enq);
    std::fprintf(out, "%s 4. host enqueue of persistent mode (submit(), kernel resident): %.0f ns/item, median of %zu "
                 "(target <= 100 ns)%s\n",
                 verdict(e <= 100), e, enq.size(),
                 enq_cold != 0 ? (" (" + std::to_string(enq_cold) + " reps found it parked; not counted)").c_str() : "");
  } else if (enq_cold != 0) {
    std::fprintf(out, "[n/a]    4. host enqueue: the kernel was never resident at submit()\n");
  }

  int failures = 0;
  for (const Measurement& m : all) {
    if (m.failure.empty()) continue;
    if (failures < 10) {
      std::fprintf(out, "WRONG RESULT: %s %s/%s %llu items, %s rep %d: %s\n", m.phase.c_str(), m.kernel.c_str(),
                   m.ordering.c_str(), static_cast<unsigned long long>(m.items), to_string(m.strategy), m.rep,
                   m.failure.c_str());
    }
    ++failures;
  }
  if (failures != 0) std::fprintf(out, "%d runs gave a wrong result or a failed verdict\n", failures);
  std::fflush(out);
  return failures;
}

}  // namespace bench
