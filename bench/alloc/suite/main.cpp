// alloc_suite: the allocator benchmark suite. Runs the same alloc_workload
// binary under every allocator (LD_PRELOAD: the Spool shim with the learner
// on and off, mimalloc, jemalloc, tcmalloc; nothing for glibc), interleaved
// (each repetition visits every row and every allocator, in an order shuffled
// per repetition and row), and prints Markdown tables: median rate per allocator with
// Spool's ratio to the best peer, peak RSS, RSS after idling, and the
// learner's CPU share and event drop rate.
//
//   alloc_suite [--reps 3] [--scale 1] [--rows larson:1,xmalloc:2,...]
//               [--allocators spool,spool-fixed,mimalloc,...] [--csv runs.csv]
#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "runner.hpp"
#include "tables.hpp"

namespace spool::bench {
namespace {

struct Row {
  std::string workload;
  int threads;
  std::string label() const { return workload + " " + std::to_string(threads) + "T"; }
};

bool exists(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0;
}

std::string dir_of(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

std::string self_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  return dir_of(buf);
}

// A shared library by soname, in the usual library directories.
std::string find_lib(const std::string& soname) {
  for (const char* d : {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                        "/usr/lib", "/usr/local/lib"}) {
    const std::string p = std::string(d) + "/" + soname;
    if (exists(p)) return p;
  }
  return "";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::vector<std::string> rows_label(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.label());
  return out;
}

}  // namespace
}  // namespace spool::bench

int main(int argc, char** argv) {
  using namespace spool::bench;
  CLI::App app{"Allocator benchmark suite: one workload binary, every allocator via LD_PRELOAD, "
               "interleaved; prints Markdown tables."};
  int reps = 3;
  double scale = 1.0;
  int idle_ms = 500;
  int timeout_s = 300;
  std::string rows_arg =
      "larson:1,larson:2,xmalloc:2,mstress:2,cache-scratch:2,glibc-simple:1,glibc-thread:2,"
      "random-mixed:1,phased:2";
  std::string allocs_arg = "spool,spool-fixed,mimalloc,jemalloc,tcmalloc,glibc";
  std::string workload_bin = self_dir() + "/alloc_workload";
  std::string shim = SPOOL_BENCH_SHIM_DEFAULT;
  std::string csv_path;
  app.add_option("-r,--reps", reps, "repetitions (each visits every row and allocator)")
      ->check(CLI::Range(1, 100));
  app.add_option("-s,--scale", scale, "work multiplier for every workload")
      ->check(CLI::Range(0.001, 1000.0));
  app.add_option("--rows", rows_arg, "workload:threads,... (see alloc_workload --help)");
  app.add_option("-a,--allocators", allocs_arg,
                 "columns: spool, spool-fixed, mimalloc, jemalloc, tcmalloc, glibc; a spool column "
                 "may add settings: spool-fixed+SPOOL_ALLOC_REFILL=128");
  app.add_option("--idle-ms", idle_ms, "idle time before the idle RSS reading")
      ->check(CLI::Range(0, 60'000));
  app.add_option("--timeout", timeout_s, "seconds before one run is killed")
      ->check(CLI::Range(1, 86'400));
  app.add_option("--workload-bin", workload_bin, "the alloc_workload binary");
  app.add_option("--shim", shim, "libspool_malloc.so");
  app.add_option("--csv", csv_path, "also write every run to this CSV file");
  CLI11_PARSE(app, argc, argv);

  if (!exists(workload_bin)) {
    std::fprintf(stderr, "alloc_suite: workload binary %s not found (--workload-bin)\n",
                 workload_bin.c_str());
    return 2;
  }
  std::vector<Row> rows;
  for (const auto& r : split(rows_arg, ',')) {
    const auto colon = r.find(':');
    const int t = colon == std::string::npos ? 1 : std::atoi(r.substr(colon + 1).c_str());
    if (t < 1) {
      std::fprintf(stderr, "alloc_suite: bad row '%s' (want workload:threads)\n", r.c_str());
      return 2;
    }
    rows.push_back({r.substr(0, colon), t});
  }
  std::vector<Allocator> allocs;
  for (const auto& name : split(allocs_arg, ',')) {
    Allocator a;
    a.name = name;
    // spool, spool-fixed, or either followed by +VAR=VALUE settings (extra
    // columns for experiments, e.g. spool-fixed+SPOOL_ALLOC_REFILL=128).
    const std::vector<std::string> parts = split(name, '+');
    const std::string base = parts.empty() ? name : parts[0];
    if (base == "spool" || base == "spool-fixed") {
      if (!exists(shim)) {
        std::fprintf(stderr, "alloc_suite: shim %s not found (--shim)\n", shim.c_str());
        return 2;
      }
      a.preload = shim;
      a.is_spool = true;
      a.is_peer = false;
      a.env["SPOOL_ALLOC_PRINT_STATS"] = "1";
      if (base == "spool-fixed") a.env["SPOOL_ALLOC_LEARNER"] = "0";
      for (std::size_t i = 1; i < parts.size(); ++i) {
        const auto eq = parts[i].find('=');
        if (eq == std::string::npos || parts[i].rfind("SPOOL_ALLOC_", 0) != 0) {
          std::fprintf(stderr, "alloc_suite: bad setting '%s' in column '%s' (want SPOOL_ALLOC_VAR=value)\n",
                       parts[i].c_str(), name.c_str());
          return 2;
        }
        a.env[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
      }
    } else if (name == "glibc") {
      a.preload = "";
    } else {
      static const std::map<std::string, std::string> sonames = {
          {"mimalloc", "libmimalloc.so.2"},
          {"jemalloc", "libjemalloc.so.2"},
          {"tcmalloc", "libtcmalloc_minimal.so.4"}};
      auto it = sonames.find(name);
      if (it == sonames.end()) {
        std::fprintf(stderr, "alloc_suite: unknown allocator '%s'\n", name.c_str());
        return 2;
      }
      a.preload = find_lib(it->second);
      if (a.preload.empty()) {
        std::fprintf(stderr, "alloc_suite: %s not installed (%s), column skipped\n", name.c_str(),
                     it->second.c_str());
        continue;
      }
    }
    allocs.push_back(a);
  }

  // cells[row][alloc]
  std::vector<std::vector<Cell>> cells(rows.size(), std::vector<Cell>(allocs.size()));
  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    csv << "rep,workload,threads,allocator,ok,rate,seconds,peak_rss_kib,rss_idle_kib,cpu_s,"
           "learner_cpu_ms,learner_wall_s,events_pushed,events_dropped,error\n";
  }
  for (int rep = 0; rep < reps; ++rep) {
    for (std::size_t ri = 0; ri < rows.size(); ++ri) {
      // A fresh order of the allocators for every (repetition, row): no
      // allocator always runs right after the same other one (a run can
      // leave the machine slower for the next, e.g. glibc's many trims).
      std::vector<std::size_t> order(allocs.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::uint64_t x = 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(rep) * 1000 + ri + 1);
      for (std::size_t i = order.size(); i > 1; --i) {
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ULL;
        x ^= x >> 29;
        std::swap(order[i - 1], order[x % i]);
      }
      for (std::size_t k = 0; k < allocs.size(); ++k) {
        const std::size_t ai = order[k];
        const Allocator& a = allocs[ai];
        RunSpec spec{workload_bin, rows[ri].workload, rows[ri].threads, scale, idle_ms, timeout_s};
        RunResult r = run_one(spec, a);
        std::fprintf(stderr, "[rep %d] %-18s %-12s %s\n", rep + 1, rows[ri].label().c_str(),
                     a.name.c_str(),
                     r.ok ? (fmt("%.2f M/s", r.rate / 1e6) + fmt(", peak %.1f MiB",
                                                                  static_cast<double>(r.peak_rss_kib) / 1024))
                                .c_str()
                          : ("FAILED: " + r.error).c_str());
        if (csv.is_open()) {
          csv << rep + 1 << ',' << rows[ri].workload << ',' << rows[ri].threads << ',' << a.name
              << ',' << r.ok << ',' << r.rate << ',' << r.seconds << ',' << r.peak_rss_kib << ','
              << r.rss_idle_kib << ',' << r.cpu_s << ',' << r.learner_cpu_ms << ','
              << r.learner_wall_s << ',' << r.events_pushed << ',' << r.events_dropped << ",\""
              << r.error << "\"\n";
        }
        cells[ri][ai].runs.push_back(std::move(r));
      }
    }
  }

  print_tables(rows_label(rows), allocs, cells, reps, scale, idle_ms);
  int failures = 0;
  for (const auto& row : cells) {
    for (const auto& c : row) {
      for (const auto& r : c.runs) failures += r.ok ? 0 : 1;
    }
  }
  if (failures > 0) std::printf("\n%d run(s) failed; see the log above.\n", failures);
  return failures == 0 ? 0 : 1;
}
