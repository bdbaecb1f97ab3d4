// bench_dispatch: measures everything issue 12 asks of Spool's launch-mode
// choice in one run, side by side, and says which targets were met.
//
//  - kernels tally (grid 1) and saxpy (grid 256), independent and sequential;
//    batch sizes 1, 3, 10, 30, ... up to --max; every forced mode and the
//    automatic choice, interleaved within each repetition (median of --reps
//    after one warm-up); per-item wall time including building the Batch;
//  - raw-Vulkan baselines written here (raw_vulkan.hpp), in the tally /
//    independent table;
//  - mixed workloads: a fixed-seed sequence of batch sizes run whole under
//    each strategy;
//  - the host enqueue cost of persistent mode;
//  - a summary of each target, and --csv FILE with one row per measurement.
//
// Exit status: 0 done, 1 a failure or a wrong result during the run, 2 bad
// arguments. bench_dispatch --help lists the options.
#include <CLI/CLI.hpp>
#include <spool/spool.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench.hpp"
#include "platform.hpp"
#include "raw_vulkan.hpp"
#include "report.hpp"
#include "spool_runs.hpp"
#include "workload.hpp"

namespace bench {
namespace {

std::vector<std::uint32_t> batch_sizes(std::uint32_t max) {
  std::vector<std::uint32_t> sizes;
  for (std::uint64_t n = 1; n <= max; n *= 10) {
    sizes.push_back(static_cast<std::uint32_t>(n));
    if (n * 3 <= max) sizes.push_back(static_cast<std::uint32_t>(n * 3));
  }
  return sizes;
}

// The workgroup of a kernel's launch variant ("wg=64"), for the raw shader.
std::uint32_t launch_workgroup(const spool::Kernel& k) {
  const std::string& v = k.variant();
  if (v.rfind("wg=", 0) == 0) {
    try {
      return static_cast<std::uint32_t>(std::stoul(v.substr(3)));
    } catch (const std::exception&) {
    }
  }
  return 64;
}

std::string join_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += std::string(i ? " " : "") + argv[i];
  return s;
}

class Bench {
 public:
  Bench(const Config& cfg, spool::Device& dev, Csv& csv) : cfg_(cfg), dev_(dev), csv_(csv), spool_(dev, cfg) {}

  void add_raw(std::unique_ptr<RawVulkan> raw) { raw_ = std::move(raw); }

  void sizes_section(const std::string& kernel, spool::Ordering ordering) {
    const auto sizes = batch_sizes(cfg_.max_items);
    Workload w(dev_, kernel, ordering, sizes.back());
    std::vector<Strategy> columns;
    for (Strategy s : kSpoolStrategies) {
      std::string why;
      if (spool_.available(s, w, &why)) {
        columns.push_back(s);
      } else {
        std::printf("(%s %s: %s unavailable: %s)\n", kernel.c_str(), w.ordering_name(), to_string(s), why.c_str());
      }
    }
    const bool with_raw = raw_ != nullptr && kernel == "tally" && ordering == spool::Ordering::independent;
    if (with_raw) columns.insert(columns.end(), std::begin(kRawStrategies), std::end(kRawStrategies));
    char title[256];
    std::snprintf(title, sizeof title,
                  "== %s (grid %u), %s: us per item (wall incl. building the Batch), median of %d reps after 1 "
                  "warm-up; each timed batch follows %u untimed one(s) of min(items, %u) under the same strategy ==",
                  kernel.c_str(), w.grid(), w.ordering_name(), cfg_.reps, cfg_.primer_batches, cfg_.primer_max);
    print_size_header(stdout, title, columns);
    for (std::uint32_t n : sizes) {
      std::vector<Measurement> runs;
      for (int rep = 0; rep <= cfg_.reps; ++rep) {
        for (Strategy s : columns) runs.push_back(record(run_one(w, n, s, rep)));
      }
      print_size_row(stdout, runs, columns);
    }
    print_size_notes(stdout, columns, cfg_.raw_cap);
  }

  void mixed(MixedDist d) {
    const auto sizes = mixed_sizes(cfg_.mixed_batches, cfg_.mixed_max, cfg_.mixed_seed, d);
    std::uint64_t items = 0;
    for (std::uint32_t n : sizes) items += n;
    Workload w(dev_, "tally", spool::Ordering::independent, cfg_.mixed_max);
    const std::string phase = d == MixedDist::uniform ? "mixed-uniform" : "mixed-log";
    char title[320];
    std::snprintf(title, sizeof title,
                  "== mixed workload (%s): %u batches of tally (grid 1), independent, sizes %s in 1 .. %u "
                  "(seed %llu), %llu items in all (mean %.0f per batch); each strategy runs the whole sequence; "
                  "median of %d reps after 1 warm-up ==",
                  phase.c_str(), cfg_.mixed_batches, to_string(d), cfg_.mixed_max,
                  static_cast<unsigned long long>(cfg_.mixed_seed), static_cast<unsigned long long>(items),
                  static_cast<double>(items) / static_cast<double>(sizes.size()), cfg_.mixed_reps);
    std::vector<Measurement> runs;
    for (int rep = 0; rep <= cfg_.mixed_reps; ++rep) {
      for (Strategy s : kSpoolStrategies) {
        std::string why;
        if (!spool_.available(s, w, &why)) continue;
        runs.push_back(record(spool_.run_sequence(w, sizes, s, rep, rep == 0, phase.c_str(),
                                                  rep == 0 ? nullptr : &mixed_batches_)));
      }
    }
    print_mixed(stdout, title, runs);
  }

  void enqueue() {
    Workload w(dev_, "tally", spool::Ordering::independent, cfg_.enqueue_items);
    std::string why;
    if (!spool_.available(Strategy::persistent, w, &why)) {
      std::printf("\npersistent enqueue: not measured (persistent unavailable: %s)\n", why.c_str());
      return;
    }
    std::vector<Measurement> runs = spool_.enqueue(w);
    for (const Measurement& m : runs) record(m);
    print_enqueue(stdout, runs);
  }

  const std::vector<Measurement>& all() const noexcept { return all_; }
  const std::vector<BatchPrediction>& mixed_batches() const noexcept { return mixed_batches_; }

 private:
  Measurement run_one(Workload& w, std::uint32_t n, Strategy s, int rep) {
    if (!is_raw(s)) return spool_.run_size(w, n, s, rep, rep == 0);
    // Spool's resident kernel would compete with the baseline for a core.
    dev_.park_persistent();
    Measurement m;
    m.phase = "sizes";
    m.kernel = w.kernel_name();
    m.ordering = w.ordering_name();
    m.grid = w.grid();
    m.items = n;
    m.strategy = s;
    m.rep = rep;
    m.warmup = rep == 0;
    m.mode = "raw";
    RawTiming t;
    try {
      t = s == Strategy::raw_submit   ? raw_->submit_per_dispatch(n, cfg_.raw_cap)
          : s == Strategy::raw_cmdbuf ? raw_->one_command_buffer(n, cfg_.raw_cap)
                                      : raw_->resident(n);
    } catch (const Error& e) {
      m.failure = e.what();
    }
    m.items_run = t.items_run;
    m.run_ns = m.wall_ns = t.ns;
    m.relaunches = t.relaunches;
    return m;
  }

  const Measurement& record(Measurement m) {
    csv_.write(m);
    all_.push_back(std::move(m));
    return all_.back();
  }

  const Config& cfg_;
  spool::Device& dev_;
  Csv& csv_;
  SpoolRunner spool_;
  std::unique_ptr<RawVulkan> raw_;
  std::vector<Measurement> all_;
  std::vector<BatchPrediction> mixed_batches_;
};

int run(const Config& cfg, const std::string& command) {
  RunInfo info;
  info.pinned = cfg.pin.has_value();
  if (cfg.pin) {
    const int threads = pin_process(parse_cpu_list(*cfg.pin));
    std::printf("pinned %d thread(s) to CPUs %s before opening the device\n", threads, cfg.pin->c_str());
  }
  info.affinity = affinity_list();
  // The CSV goes to FILE.partial first and replaces FILE only when the run
  // ends, so a failed run destroys no earlier result.
  const std::string partial = cfg.csv.empty() ? std::string() : cfg.csv + ".partial";
  std::unique_ptr<Csv> csv;
  try {
    csv = std::make_unique<Csv>(cfg.csv.empty() ? "/dev/null" : partial, info.affinity);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_dispatch: %s\n", e.what());
    return 2;
  }

  std::printf("bench_dispatch %s\n%s\n", now_string().c_str(), command.c_str());
  std::printf("affinity: CPUs %s (%s; %d online); load average at start: %s\n", info.affinity.c_str(),
              info.pinned ? "pinned with --pin" : "not pinned", cpus_online(), load_average().c_str());

  spool::RuntimeOptions ro;
  ro.device_options.autotune = cfg.autotune;
  if (cfg.calibrate == "always") ro.device_options.calibrate = true;
  if (cfg.calibrate == "never") ro.device_options.calibrate = false;
  const auto t0 = std::chrono::steady_clock::now();
  spool::Runtime rt = spool::make_runtime(ro);
  std::shared_ptr<spool::Device> dev = rt.open_default();
  info.open_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const spool::LaunchProfile p = dev->profile();
  info.profile_source = p.source;
  std::printf("device: %s (%s, driver %s); autotune %s\n", dev->name().c_str(), spool::to_string(dev->backend()),
              dev->info().driver_version.c_str(), cfg.autotune.c_str());
  std::printf("profile at open (%s, %.1f ms to open): L=%.2f us R=%.2f us r=%.3f us P=%.1f us p=%.3f us\n",
              p.source.c_str(), info.open_ms, p.launch_ns / 1e3, p.record_setup_ns / 1e3, p.replay_ns / 1e3,
              p.persistent_setup_ns / 1e3, p.queue_item_ns / 1e3);

  Bench bench(cfg, *dev, *csv);
  if (cfg.raw && dev->backend() == spool::BackendKind::vulkan) {
    try {
      const std::uint32_t wg = launch_workgroup(dev->kernel("tally"));
      auto raw = std::make_unique<RawVulkan>(dev->info().uuid, wg, std::max(cfg.max_items, 1u));
      std::printf("raw baselines: a second VkDevice of %s in this process; (a)/(b) workgroup %u as Spool's tally, "
                  "(c) one invocation, %s\n",
                  raw->device_name().c_str(), wg,
                  raw->has_loop_budget()
                      ? ("relaunched every " + std::to_string(raw->resident_budget()) + " loop passes (llvmpipe loop budget)").c_str()
                      : "no loop budget");
      bench.add_raw(std::move(raw));
    } catch (const Error& e) {
      std::printf("raw baselines unavailable: %s\n", e.what());
    }
  } else if (cfg.raw) {
    std::printf("raw baselines: not run (the device is not a Vulkan device)\n");
  }

  for (const std::string& k : cfg.kernels) {
    for (const std::string& o : cfg.orderings) {
      bench.sizes_section(k, o == "sequential" ? spool::Ordering::sequential : spool::Ordering::independent);
    }
  }
  if (cfg.mixed_batches != 0) {
    for (MixedDist d : cfg.mixed_dists) bench.mixed(d);
  }
  if (cfg.enqueue_items != 0) bench.enqueue();

  const int failures = print_summary(stdout, bench.all(), bench.mixed_batches(), info);
  std::printf("load average at end: %s\n", load_average().c_str());
  csv.reset();
  if (!cfg.csv.empty()) {
    std::error_code ec;
    std::filesystem::rename(partial, cfg.csv, ec);
    if (ec) throw Error("cannot move " + partial + " to " + cfg.csv + ": " + ec.message());
    std::printf("csv: %s (%zu rows)\n", cfg.csv.c_str(), bench.all().size());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::Config cfg;
  CLI::App app{"bench_dispatch: Spool's launch modes, its automatic choice and raw-Vulkan baselines, side by side "
               "(issue 12). Exit status: 0 done, 1 failure or wrong result, 2 bad arguments."};
  app.option_defaults()->always_capture_default();
  app.add_option("--max", cfg.max_items, "largest batch (sizes 1, 3, 10, 30, ... up to it)")
      ->check(CLI::Range(1u, 10'000'000u));
  app.add_option("--reps", cfg.reps, "timed repetitions per size, after one warm-up")->check(CLI::Range(1, 1000));
  app.add_option("--primer", cfg.primer_max,
                 "items of the untimed same-strategy batch before each timed one, at most (0: none)");
  app.add_option("--primer-batches", cfg.primer_batches,
                 "untimed same-strategy batches before each timed one (1: the default; more: the steady state of "
                 "a stream of such batches)")
      ->check(CLI::Range(1u, 100u));
  app.add_option("--kernels", cfg.kernels, "kernels to measure")
      ->delimiter(',')
      ->check(CLI::IsMember({"tally", "saxpy"}));
  app.add_option("--orderings", cfg.orderings, "orderings to measure")
      ->delimiter(',')
      ->check(CLI::IsMember({"independent", "sequential"}));
  app.add_option("--mixed-batches", cfg.mixed_batches, "batches in a mixed workload (0: no mixed workload)")
      ->check(CLI::Range(0u, 1'000'000u));
  app.add_option("--mixed-max", cfg.mixed_max, "largest batch of a mixed workload")->check(CLI::Range(1u, 10'000'000u));
  app.add_option("--mixed-seed", cfg.mixed_seed, "seed of the mixed workloads' sizes");
  std::vector<std::string> dists{"log", "uniform"};
  app.add_option("--mixed-dist", dists, "distributions of the mixed workloads' sizes: log (log-uniform), uniform")
      ->delimiter(',')
      ->check(CLI::IsMember({"log", "uniform"}));
  app.add_option("--mixed-reps", cfg.mixed_reps, "timed repetitions of each mixed workload, after one warm-up")
      ->check(CLI::Range(1, 1000));
  bool no_raw = false;
  app.add_flag("--no-raw", no_raw, "skip the raw-Vulkan baselines");
  app.add_option("--raw-cap", cfg.raw_cap, "dispatches per run of raw submit-per-dispatch and one-command-buffer, "
                 "at most (their per-item cost does not depend on the batch size)")
      ->check(CLI::Range(1u, 10'000'000u));
  app.add_option("--enqueue-items", cfg.enqueue_items, "items of the enqueue measurement (0: none)")
      ->check(CLI::Range(0u, 1'000'000u));
  app.add_option("--enqueue-reps", cfg.enqueue_reps, "repetitions of the enqueue measurement")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--pin", cfg.pin, "restrict the whole process to these CPUs (e.g. 0, 0,2, 0-3) before the device "
                 "opens, so the driver's threads inherit it")
      ->check([](const std::string& s) {
        try {
          bench::parse_cpu_list(s);
          return std::string();
        } catch (const bench::Error& e) {
          return std::string(e.what());
        }
      });
  app.add_option("--autotune", cfg.autotune, "SPOOL_AUTOTUNE for this run")->check(CLI::IsMember({"off", "race", "frozen"}));
  app.add_option("--calibrate", cfg.calibrate, "auto: the stored profile if any, else measure; always; never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--csv", cfg.csv, "also write one row per measurement to FILE (written as FILE.partial, renamed at "
                 "the end)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  cfg.raw = !no_raw;
  cfg.mixed_dists.clear();
  for (const std::string& d : dists) {
    cfg.mixed_dists.push_back(d == "uniform" ? bench::MixedDist::uniform : bench::MixedDist::log_uniform);
  }
  if (cfg.raw_cap > cfg.max_items) cfg.raw_cap = cfg.max_items;
  try {
    return bench::run(cfg, bench::join_args(argc, argv));
  } catch (const bench::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_dispatch: %s\n", e.what());
    return 1;
  } catch (const spool::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_dispatch: %s\n", e.what());
    return 1;
  }
}
