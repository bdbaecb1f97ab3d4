#include "tables.hpp"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace spool::bench {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

namespace {

int index_of(const std::vector<Allocator>& allocs, const char* n) {
  for (std::size_t i = 0; i < allocs.size(); ++i) {
    if (allocs[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

// Per repetition r: a / b of the two runs of that repetition (run close
// together in time, so the machine's slow drifts cancel); median and range.
std::string paired(const Cell& a, const Cell& b, double RunResult::*metric) {
  std::vector<double> r;
  const std::size_t n = a.runs.size() < b.runs.size() ? a.runs.size() : b.runs.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (a.runs[i].ok && b.runs[i].ok && b.runs[i].*metric > 0) {
      r.push_back(a.runs[i].*metric / b.runs[i].*metric);
    }
  }
  if (r.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  return fmt("%.2f", median(r)) + fmt(" (%.2f", *lo) + fmt("–%.2f)", *hi);
}

// Per repetition: spool over the best peer of that repetition.
std::string paired_best(const std::vector<Cell>& row, const std::vector<Allocator>& allocs,
                        int subject, double RunResult::*metric) {
  if (subject < 0) return "-";
  std::vector<double> r;
  const Cell& s = row[static_cast<std::size_t>(subject)];
  for (std::size_t i = 0; i < s.runs.size(); ++i) {
    if (!s.runs[i].ok) continue;
    double best = 0;
    for (std::size_t ai = 0; ai < allocs.size(); ++ai) {
      if (!allocs[ai].is_peer || i >= row[ai].runs.size() || !row[ai].runs[i].ok) continue;
      best = std::max(best, row[ai].runs[i].*metric);
    }
    if (best > 0) r.push_back(s.runs[i].*metric / best);
  }
  if (r.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  return fmt("%.2f", median(r)) + fmt(" (%.2f", *lo) + fmt("–%.2f)", *hi);
}

// One rate table: median per allocator, the best peer by median, and
// Spool's ratios paired per repetition (median, min–max).
void rate_table(const char* title, double RunResult::*metric,
                const std::vector<std::string>& rows, const std::vector<Allocator>& allocs,
                const std::vector<std::vector<Cell>>& cells) {
  const int spool = index_of(allocs, "spool");
  const int fixed = index_of(allocs, "spool-fixed");
  std::printf("\n| %s |", title);
  for (const auto& a : allocs) std::printf(" %s |", a.name.c_str());
  std::printf(" best peer | spool / best peer | fixed / best peer | learner on / off |\n|---|");
  for (std::size_t i = 0; i < allocs.size() + 1; ++i) std::printf("---:|");
  std::printf("---:|---:|---:|\n");
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::printf("| %s |", rows[ri].c_str());
    double best = 0;
    std::string best_name = "-";
    for (std::size_t ai = 0; ai < allocs.size(); ++ai) {
      const Cell& c = cells[ri][ai];
      if (!c.any_ok()) {
        std::printf(" failed |");
        continue;
      }
      const double med = median(c.field(metric));
      std::printf(" %.2f |", med / 1e6);
      if (allocs[ai].is_peer && med > best) {
        best = med;
        best_name = allocs[ai].name;
      }
    }
    const std::string on_off =
        spool >= 0 && fixed >= 0
            ? paired(cells[ri][static_cast<std::size_t>(spool)], cells[ri][static_cast<std::size_t>(fixed)], metric)
            : "-";
    std::printf(" %s | %s | %s | %s |\n", best_name.c_str(),
                paired_best(cells[ri], allocs, spool, metric).c_str(),
                paired_best(cells[ri], allocs, fixed, metric).c_str(), on_off.c_str());
  }
}

void memory_table(int idle_ms, const std::vector<std::string>& rows,
                  const std::vector<Allocator>& allocs,
                  const std::vector<std::vector<Cell>>& cells) {
  const int spool = index_of(allocs, "spool");
  const int mimalloc = index_of(allocs, "mimalloc");
  std::printf("\n| peak RSS / RSS after %d ms idle (MiB) |", idle_ms);
  for (const auto& a : allocs) std::printf(" %s |", a.name.c_str());
  std::printf(" spool peak / mimalloc peak |\n|---|");
  for (std::size_t i = 0; i < allocs.size() + 1; ++i) std::printf("---:|");
  std::printf("\n");
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::printf("| %s |", rows[ri].c_str());
    std::vector<double> peak(allocs.size(), 0);
    for (std::size_t ai = 0; ai < allocs.size(); ++ai) {
      const Cell& c = cells[ri][ai];
      if (!c.any_ok()) {
        std::printf(" - |");
        continue;
      }
      peak[ai] = median(c.rss_mib(&RunResult::peak_rss_kib));
      std::printf(" %.1f / %.1f |", peak[ai], median(c.rss_mib(&RunResult::rss_idle_kib)));
    }
    if (spool >= 0 && mimalloc >= 0 && peak[static_cast<std::size_t>(mimalloc)] > 0) {
      std::printf(" %.2f |\n",
                  peak[static_cast<std::size_t>(spool)] / peak[static_cast<std::size_t>(mimalloc)]);
    } else {
      std::printf(" - |\n");
    }
  }
}

void learner_table(const std::vector<std::string>& rows, const std::vector<Allocator>& allocs,
                   const std::vector<std::vector<Cell>>& cells) {
  const int spool = index_of(allocs, "spool");
  if (spool < 0) return;
  std::printf("\n| spool learner | CPU (share of one core) | events offered | dropped | "
              "stood down (last run) |\n|---|---:|---:|---:|---|\n");
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    const Cell& c = cells[ri][static_cast<std::size_t>(spool)];
    std::vector<double> share;
    std::vector<double> offered;
    std::vector<double> drop;
    std::string sd;
    for (const auto& r : c.runs) {
      if (!r.ok || !r.has_learner) continue;
      share.push_back(r.learner_wall_s > 0 ? r.learner_cpu_ms / 1e3 / r.learner_wall_s : 0);
      const double off = static_cast<double>(r.events_pushed + r.events_dropped);
      offered.push_back(off);
      drop.push_back(off > 0 ? static_cast<double>(r.events_dropped) / off : 0);
      sd = r.stand_down;
    }
    if (share.empty()) {
      std::printf("| %s | - | - | - | - |\n", rows[ri].c_str());
      continue;
    }
    std::printf("| %s | %.3f %% | %.0f | %.3f %% | %s |\n", rows[ri].c_str(), 100 * median(share),
                median(offered), 100 * median(drop), sd.empty() ? "-" : sd.c_str());
  }
}

}  // namespace

void print_tables(const std::vector<std::string>& rows, const std::vector<Allocator>& allocs,
                  const std::vector<std::vector<Cell>>& cells, int reps, double scale,
                  int idle_ms) {
  char date[32];
  const time_t now = time(nullptr);
  strftime(date, sizeof date, "%Y-%m-%d", localtime(&now));
  std::printf("\nalloc_suite, %s, %d repetition(s), scale %g, %ld CPUs; medians.\n", date, reps,
              scale, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("Ratios are paired per repetition (runs of one repetition ran close together); "
              "median (min–max) over repetitions.\n");
  rate_table("wall-clock rate (M ops/s)", &RunResult::rate, rows, allocs, cells);
  rate_table("CPU-time rate (M ops per CPU-second)", &RunResult::cpu_rate, rows, allocs, cells);
  memory_table(idle_ms, rows, allocs, cells);
  learner_table(rows, allocs, cells);
}

}  // namespace spool::bench
