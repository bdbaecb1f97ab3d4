// bench/dispatch: for batch sizes from 1 to 100 000 tiny items, times each
// forced launch mode and the automatic choice side by side in one run, and
// prints a table (and CSV with --csv FILE). Each cell is the median over
// repetitions of the wall time of one batch (submit to completion), per item.
//
//   bench_dispatch [--max N] [--reps R] [--csv FILE]   (--help: usage)
#include <spool/spool.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint32_t max_n = 100'000;
  int reps = 5;
  std::string csv;
  CLI::App cli{"Times each forced launch mode and the automatic choice side by side for batch\n"
               "sizes from 1 to --max tiny items; prints a table (and CSV with --csv).",
               "bench_dispatch"};
  cli.add_option("--max", max_n, "largest batch size")->check(CLI::Range(1u, 1'000'000u))->capture_default_str();
  cli.add_option("--reps", reps, "repetitions per cell (median reported)")->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cli.add_option("--csv", csv, "also write the table as CSV to this file")->type_name("FILE");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  try {
    spool::RuntimeOptions ro;
    ro.device_options.autotune = "off";  // measure modes, not variants
    auto rt = spool::make_runtime(ro);
    auto dev = rt.open_default();
    const auto p = dev->profile();
    std::printf("device: %s\nprofile: L=%.2f us R=%.2f us r=%.3f us P=%.1f us p=%.3f us\n\n",
                dev->name().c_str(), p.launch_ns / 1e3, p.record_setup_ns / 1e3, p.replay_ns / 1e3,
                p.persistent_setup_ns / 1e3, p.queue_item_ns / 1e3);
    auto k = dev->kernel("tally");
    auto counts = dev->buffer(std::uint64_t{max_n} * 4 + 4);
    std::FILE* out = csv.empty() ? nullptr : std::fopen(csv.c_str(), "w");
    if (!csv.empty() && out == nullptr) {
      std::fprintf(stderr, "error: cannot write %s\n", csv.c_str());
      return 2;
    }
    if (out) std::fprintf(out, "items,launches_us_per_item,recorded_us_per_item,persistent_us_per_item,auto_us_per_item,auto_mode,best_mode,auto_vs_best\n");
    std::printf("%8s %14s %14s %14s %14s %-11s %-11s %8s\n", "items", "launches us/it", "recorded us/it",
                "persist us/it", "auto us/it", "auto mode", "best mode", "auto/best");
    std::vector<std::uint32_t> sizes;
    for (std::uint32_t n = 1; n <= max_n; n *= 10) {
      sizes.push_back(n);
      if (n * 3 <= max_n) sizes.push_back(n * 3);
    }
    int within = 0;
    for (std::uint32_t n : sizes) {
      auto make = [&] {
        spool::Batch b(k);
        b.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) b.add(1, {spool::arg(counts), spool::arg(i)});
        return b;
      };
      const spool::Batch batch = make();
      double t[4];
      std::string auto_mode;
      // Interleave the variants within each repetition so drift hits all alike.
      std::vector<double> s[4];
      const int r_n = n >= 30'000 ? std::max(1, reps / 2) : reps;
      for (int r = 0; r < r_n + 1; ++r) {
        for (int m = 0; m < 4; ++m) {
          spool::SubmitOptions o;
          if (m < 3) o.force_mode = static_cast<spool::LaunchMode>(m);
          const auto v = dev->run(batch, o);
          if (!v.ok()) {
            std::fprintf(stderr, "batch failed: %s\n", v.failure.c_str());
            return 1;
          }
          if (r > 0) s[m].push_back(v.measured_ns / n);  // repetition 0 warms up
          if (m == 3) auto_mode = std::string(spool::policy::to_string(v.mode));
        }
      }
      for (int m = 0; m < 4; ++m) t[m] = median(s[m]);
      int best = 0;
      for (int m = 1; m < 3; ++m) if (t[m] < t[best]) best = m;
      const double ratio = t[3] / t[best];
      within += ratio <= 1.10;
      const char* best_name = spool::policy::to_string(static_cast<spool::LaunchMode>(best)).data();
      std::printf("%8u %14.3f %14.3f %14.3f %14.3f %-11s %-11s %8.2f\n", n, t[0] / 1e3, t[1] / 1e3,
                  t[2] / 1e3, t[3] / 1e3, auto_mode.c_str(), best_name, ratio);
      if (out) std::fprintf(out, "%u,%.4f,%.4f,%.4f,%.4f,%s,%s,%.3f\n", n, t[0] / 1e3, t[1] / 1e3, t[2] / 1e3,
                            t[3] / 1e3, auto_mode.c_str(), best_name, ratio);
    }
    std::printf("\nautomatic choice within 10%% of the best forced mode at %d of %zu batch sizes\n", within,
                sizes.size());

    // Host-side cost of submitting one item in persistent mode, enqueue only:
    // the time submit() takes for a batch that fits in the queue, with the
    // persistent kernel resident, divided by its items.
    {
      constexpr std::uint32_t kEnqueue = 512;
      std::vector<double> per_item;
      spool::SubmitOptions o;
      o.force_mode = spool::LaunchMode::persistent;
      for (int r = 0; r < 21; ++r) {
        spool::Batch b(k);
        b.reserve(kEnqueue);
        for (std::uint32_t i = 0; i < kEnqueue; ++i) b.add(1, {spool::arg(counts), spool::arg(i)});
        const bool resident = dev->impl().persistent_resident(*k.impl());
        const auto t0 = std::chrono::steady_clock::now();
        auto sub = dev->submit(std::move(b), o);
        const auto t1 = std::chrono::steady_clock::now();
        sub.wait();
        if (resident) per_item.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kEnqueue);
      }
      if (per_item.empty()) {
        std::printf("persistent enqueue: kernel never resident at submit; not measured\n");
      } else {
        std::printf("persistent enqueue (submit() of %u items, resident kernel): %.0f ns/item (median of %zu)\n",
                    kEnqueue, median(per_item), per_item.size());
      }
    }
    if (out) std::fclose(out);
  } catch (const spool::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
