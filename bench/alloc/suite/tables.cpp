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

// One rate table: median per allocator, best peer, Spool's ratios.
void rate_table(const char* title, double RunResult::*metric,
                const std::vector<std::string>& rows, const std::vector<Allocator>& allocs,
                const std::vector<std::vector<Cell>>& cells) {
  const int spool = index_of(allocs, "spool");
  const int fixed = index_of(allocs, "spool-fixed");
  std::printf("\n| %s |", title);
  for (const auto& a : allocs) std::printf(" %s |", a.name.c_str());
  std::printf(" best peer | spool / best | fixed / best | learner on / off |\n|---|");
  for (std::size_t i = 0; i < allocs.size() + 4; ++i) std::printf("---:|");
  std::printf("\n");
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::printf("| %s |", rows[ri].c_str());
    double best = 0;
    std::string best_name = "-";
    std::vector<double> med(allocs.size(), 0);
    for (std::size_t ai = 0; ai < allocs.size(); ++ai) {
      const Cell& c = cells[ri][ai];
      if (!c.any_ok()) {
        std::printf(" failed |");
        continue;
      }
      med[ai] = median(c.field(metric));
      std::printf(" %.2f |", med[ai] / 1e6);
      if (allocs[ai].is_peer && med[ai] > best) {
        best = med[ai];
        best_name = allocs[ai].name;
      }
    }
    const auto ratio = [&](int ai, double den) {
      return ai >= 0 && med[static_cast<std::size_t>(ai)] > 0 && den > 0
                 ? fmt("%.2f", med[static_cast<std::size_t>(ai)] / den)
                 : std::string("-");
    };
    std::printf(" %s | %s | %s | %s |\n", best_name.c_str(), ratio(spool, best).c_str(),
                ratio(fixed, best).c_str(),
                fixed >= 0 ? ratio(spool, med[static_cast<std::size_t>(fixed)]).c_str() : "-");
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
  rate_table("wall-clock rate (M ops/s)", &RunResult::rate, rows, allocs, cells);
  rate_table("CPU-time rate (M ops per CPU-second)", &RunResult::cpu_rate, rows, allocs, cells);
  memory_table(idle_ms, rows, allocs, cells);
  learner_table(rows, allocs, cells);
}

}  // namespace spool::bench
