// bench/workloads: the mixed-workload cases of the dispatch benchmarks. Runs
// the three workload samples (CG solver, token decode, BFS; samples/*) on
// fixed instances under each forced launch mode and under the automatic
// choice, side by side in one run (modes interleaved within each
// repetition, median of the repetitions), and prints per case the total time
// of each mode, the modes auto chose, and auto's ratio to the best forced
// mode. Every run is checked against the workload's CPU reference; a mode
// that computed a wrong result is marked in the table and the exit status.
//
//   bench_workloads [--reps R] [--csv FILE] [--only NAME]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bfs_workload.hpp"
#include "cg_workload.hpp"
#include "decode_workload.hpp"
#include "workload_modes.hpp"

namespace {

// Type-erased workload: what compare_modes needs.
struct AnyWorkload {
  std::string description;
  std::function<void()> warm_up;
  std::function<sample::ModeRun(sample::Mode)> run;
};

template <class W>
AnyWorkload erase(std::shared_ptr<W> w) {
  return {w->describe(), [w] { w->warm_up(); }, [w](sample::Mode m) { return w->run(m); }};
}

struct CaseDef {
  const char* name;
  std::function<AnyWorkload(spool::Device&)> make;
};

std::vector<CaseDef> cases() {
  std::vector<CaseDef> c;
  auto cg_case = [](std::uint32_t grid) {
    return [grid](spool::Device& d) {
      cg::Params p;
      p.grid = grid;
      p.max_iters = 4 * grid;  // a wrong result must not run for 20 N iterations
      return erase(std::make_shared<cg::Workload>(d, p));
    };
  };
  auto decode_case = [](std::uint32_t dim, std::uint32_t vocab, std::uint32_t tokens) {
    return [=](spool::Device& d) {
      decode::Params p;
      p.dim = dim;
      p.vocab = vocab;
      p.layers = 4;
      p.tokens = tokens;
      return erase(std::make_shared<decode::Workload>(d, p));
    };
  };
  auto bfs_case = [](bfs::GraphKind k, std::uint32_t vertices) {
    return [=](spool::Device& d) {
      bfs::Params p;
      p.kind = k;
      p.vertices = vertices;
      return erase(std::make_shared<bfs::Workload>(d, p));
    };
  };
  c.push_back({"cg-32", cg_case(32)});
  c.push_back({"cg-128", cg_case(128)});
  c.push_back({"decode-d32", decode_case(32, 128, 64)});
  c.push_back({"decode-d128", decode_case(128, 512, 32)});
  c.push_back({"bfs-rmat-64k", bfs_case(bfs::GraphKind::rmat, 1u << 16)});
  c.push_back({"bfs-grid-64k", bfs_case(bfs::GraphKind::grid, 1u << 16)});
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Mixed workloads (CG, token decode, BFS from samples/): total time per forced launch mode and "
               "under the automatic choice, side by side, checked against the CPU."};
  int reps = 3;
  std::string csv, only;
  app.add_option("--reps", reps, "repetitions per mode (interleaved); the median is kept")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  app.add_option("--csv", csv, "also write the table as CSV to FILE");
  app.add_option("--only", only, "run only the cases whose name contains this");
  bool stored_profile = false;
  app.add_flag("--stored-profile", stored_profile,
               "start from the launch profile stored by an earlier process (SPOOL_CALIBRATE) instead of measuring it");
  CLI11_PARSE(app, argc, argv);

  try {
    spool::RuntimeOptions ro;
    ro.device_options.autotune = "off";  // app kernels are not raced anyway; measure modes only
    // Measure the launch profile under this run's conditions rather than
    // reuse one stored by an earlier process (--stored-profile to reuse it).
    ro.device_options.calibrate = !stored_profile ? std::optional<bool>(true) : std::nullopt;
    auto rt = spool::make_runtime(ro);
    auto dev = sample::open_device(rt, false);
    std::FILE* out = nullptr;
    if (!csv.empty()) {
      out = std::fopen(csv.c_str(), "w");
      if (out == nullptr) {
        std::fprintf(stderr, "error: cannot write %s\n", csv.c_str());
        return 2;
      }
      std::fprintf(out, "case,launches_ms,recorded_ms,persistent_ms,auto_ms,auto_modes,best_mode,auto_vs_best,"
                        "batches,items,wrong_modes\n");
    }
    std::printf("\nmedian of %d, modes interleaved; ms = total time of the whole workload\n\n", reps);
    std::printf("%-13s %11s %11s %11s %11s %8s %8s  %-11s %9s  %-34s %s\n", "case", "launches ms", "recorded ms",
                "persist ms", "auto ms", "batches", "items", "best", "auto/best", "auto chose (batches)",
                "wrong results");
    bool all_ok = true;
    std::vector<std::string> notes;
    for (const auto& c : cases()) {
      if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
      AnyWorkload w = c.make(*dev);
      notes.push_back(std::string(c.name) + ": " + w.description);
      w.warm_up();
      const auto runs = sample::compare_modes(w.run, reps);
      const std::size_t best = sample::best_fixed(runs);
      const double ratio = runs[3].wall_ns / runs[best].wall_ns;
      std::string wrong;
      for (const auto& r : runs) {
        if (r.correct) continue;
        all_ok = false;
        if (!wrong.empty()) wrong += " ";
        wrong += std::string(sample::to_string(r.mode));
        notes.push_back(std::string(c.name) + " " + std::string(sample::to_string(r.mode)) + ": " + r.check);
      }
      const std::string best_name(sample::to_string(runs[best].mode));
      std::printf("%-13s %11.1f %11.1f %11.1f %11.1f %8llu %8llu  %-11s %9.2f  %-34s %s\n", c.name,
                  runs[0].wall_ns / 1e6, runs[1].wall_ns / 1e6, runs[2].wall_ns / 1e6, runs[3].wall_ns / 1e6,
                  static_cast<unsigned long long>(runs[3].tally.batches),
                  static_cast<unsigned long long>(runs[3].tally.items), best_name.c_str(), ratio,
                  runs[3].tally.mode_mix().c_str(), wrong.empty() ? "-" : wrong.c_str());
      std::fflush(stdout);
      if (out != nullptr) {
        std::fprintf(out, "%s,%.3f,%.3f,%.3f,%.3f,\"%s\",%s,%.3f,%llu,%llu,\"%s\"\n", c.name, runs[0].wall_ns / 1e6,
                     runs[1].wall_ns / 1e6, runs[2].wall_ns / 1e6, runs[3].wall_ns / 1e6,
                     runs[3].tally.mode_mix().c_str(), best_name.c_str(), ratio,
                     static_cast<unsigned long long>(runs[3].tally.batches),
                     static_cast<unsigned long long>(runs[3].tally.items), wrong.c_str());
      }
    }
    if (out != nullptr) std::fclose(out);
    std::printf("\n");
    for (const auto& n : notes) std::printf("%s\n", n.c_str());
    std::printf("%s\n", all_ok ? "every run matched its CPU reference" : "SOME RUNS COMPUTED WRONG RESULTS");
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
