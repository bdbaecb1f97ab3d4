// heat_chain: a many-small-kernels workload. A 1-D heat equation advanced by
// chains of tiny Jacobi steps (one kernel launch per step, each reading the
// previous step's output), then summed by a chain of pairwise reduction
// steps. Every result is checked against a CPU reference.
//
// Two parts:
//  1. the automatic choice: --rounds rounds of six chain lengths and one
//     reduction, every verdict printed (mode chosen, predicted cost of each
//     mode, measured time, first-use cost, prediction error);
//  2. the comparison: each batch again under the automatic choice and under
//     each forced mode, interleaved, median of --compare-reps, so the table
//     shows whether the chosen mode wins once warmed up.
//
//   spool_heat_chain [--cells N] [--rounds R] [--compare-reps K] [--telemetry FILE]
#include <spool/spool.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Options {
  std::uint32_t cells = 256;
  int rounds = 3;
  int compare_reps = 3;
  std::string telemetry;
};

// Parses the command line; exits (0 for --help, 2 for wrong arguments) when
// there is nothing to run.
Options parse(int argc, char** argv) {
  Options o;
  CLI::App app{"A 1-D heat equation advanced by chains of tiny kernels, summed by a chain of\n"
               "reduction steps; every result checked against the CPU, every verdict printed,\n"
               "then the automatic choice compared with each forced mode side by side.",
               "spool_heat_chain"};
  app.add_option("--cells", o.cells, "grid cells")->check(CLI::Range(2u, 65536u))->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds of the six chain lengths and the reduction under the automatic choice")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--compare-reps", o.compare_reps,
                 "timed repetitions of each strategy per batch in the comparison (0: no comparison)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--telemetry", o.telemetry, "append verdict events (JSON Lines) to this file")->type_name("FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return o;
}

std::string us(double ns) {
  if (ns < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", ns / 1000.0);
  return b;
}

// The prediction error of a batch, first-use cost (pipeline compilation)
// left out: the prediction never includes it, the verdict reports it apart.
double error_pct(const spool::Verdict& v) {
  const double pred = v.predicted_chosen_ns();
  if (!(pred > 0)) return 0.0;
  return 100.0 * (v.measured_ns - v.first_use_ns - pred) / pred;
}

void print_header() {
  std::printf("%-13s %6s  %-10s %-7s %10s %10s %10s  %10s %9s %8s  %s\n", "batch", "items", "mode", "why",
              "launch us", "record us", "persist us", "measured", "1st use", "error", "variant (race)");
}

void print_verdict(const std::string& what, const spool::Verdict& v) {
  std::string race = v.variant;
  if (!v.race_role.empty()) race += " " + v.race_role + ":" + v.race_verdict;
  const char* why = v.forced ? "forced" : v.exploration ? "explore" : "best";
  std::printf("%-13s %6u  %-10s %-7s %10s %10s %10s  %10s %9s %+7.0f%%  %s %s\n", what.c_str(), v.items,
              std::string(spool::policy::to_string(v.mode)).c_str(), why, us(v.predicted_ns[0]).c_str(),
              us(v.predicted_ns[1]).c_str(), us(v.predicted_ns[2]).c_str(), us(v.measured_ns).c_str(),
              v.first_use_ns > 0 ? us(v.first_use_ns).c_str() : "", error_pct(v), race.c_str(),
              v.ok() ? "ok" : v.failure.c_str());
}

// The workload: buffers, kernels, and one run of each batch with its check.
class HeatChain {
 public:
  HeatChain(spool::Device& dev, std::uint32_t cells)
      : dev_(dev), n_(cells), a_(dev.buffer(cells * sizeof(float))), b_(dev.buffer(cells * sizeof(float))),
        stencil_(dev.kernel("stencil_step")), reduce_(dev.kernel("reduce_step")) {}

  // `steps` sequential Jacobi steps from a hot spike; checked against the CPU.
  spool::Verdict chain(std::uint32_t steps, const spool::SubmitOptions& o, bool* ok) {
    std::vector<float> ref(n_, 0.0f), tmp(n_);
    ref[n_ / 2] = 1000.0f;
    std::memcpy(a_.data(), ref.data(), n_ * sizeof(float));
    std::memset(b_.data(), 0, n_ * sizeof(float));
    spool::Batch batch(stencil_, spool::Ordering::sequential);
    batch.reserve(steps);
    for (std::uint32_t s = 0; s < steps; ++s) {
      const auto& src = s % 2 == 0 ? a_ : b_;
      const auto& dst = s % 2 == 0 ? b_ : a_;
      batch.add(n_, {spool::arg(src), spool::arg(dst), spool::arg(kAlpha), spool::arg(n_)});
    }
    const spool::Verdict v = dev_.run(std::move(batch), o);
    for (std::uint32_t s = 0; s < steps; ++s) {
      for (std::uint32_t i = 0; i < n_; ++i) {
        tmp[i] = (i == 0 || i + 1 == n_) ? ref[i] : ref[i] + kAlpha * (ref[i - 1] - 2.0f * ref[i] + ref[i + 1]);
      }
      ref.swap(tmp);
    }
    const float* out = (steps % 2 == 0 ? a_ : b_).as<float>().data();
    double max_err = 0;
    for (std::uint32_t i = 0; i < n_; ++i) max_err = std::max(max_err, double(std::fabs(out[i] - ref[i])));
    if (max_err > 1e-2 || !v.ok()) {
      std::printf("MISMATCH after %u steps (%s): max error %.4g\n", steps,
                  std::string(spool::policy::to_string(v.mode)).c_str(), max_err);
      *ok = false;
    }
    return v;
  }

  // Sums the field in buffer a with a chain of halving steps; checked.
  spool::Verdict reduce(const spool::SubmitOptions& o, bool* ok) {
    std::vector<float> field(a_.as<float>().begin(), a_.as<float>().end());
    spool::Batch sum(reduce_, spool::Ordering::sequential);
    std::uint32_t len = n_;
    bool from_a = true;
    while (len > 1) {
      const std::uint32_t half = (len + 1) / 2;
      sum.add(half, {spool::arg(from_a ? a_ : b_), spool::arg(from_a ? b_ : a_), spool::arg(len)});
      from_a = !from_a;
      len = half;
    }
    const spool::Verdict v = dev_.run(std::move(sum), o);
    double expect = 0;
    for (float x : field) expect += x;
    const float got = (from_a ? a_ : b_).as<float>()[0];
    if (std::fabs(got - expect) > 1e-3 * std::max(1.0, std::fabs(expect)) || !v.ok()) {
      std::printf("MISMATCH in reduction (%s): got %.6g expected %.6g\n",
                  std::string(spool::policy::to_string(v.mode)).c_str(), double(got), expect);
      *ok = false;
    }
    return v;
  }

  // One batch by its row index: 0..5 chains of 1..1024 steps, 6 the reduction.
  spool::Verdict row(std::size_t r, const spool::SubmitOptions& o, bool* ok) {
    if (r < kSteps.size()) return chain(kSteps[r], o, ok);
    chain(kSteps.back(), {}, ok);  // a field worth summing (not timed)
    return reduce(o, ok);
  }
  static std::string row_name(std::size_t r) {
    return r < kSteps.size() ? "stencil x" + std::to_string(kSteps[r]) : std::string("reduce");
  }
  static constexpr std::array<std::uint32_t, 6> kSteps{1, 4, 16, 64, 256, 1024};
  static constexpr std::size_t kRows = kSteps.size() + 1;

 private:
  static constexpr float kAlpha = 0.25f;
  spool::Device& dev_;
  std::uint32_t n_;
  spool::Buffer a_, b_;
  spool::Kernel stencil_, reduce_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Part 2: per batch, the automatic choice and each forced mode, interleaved
// within each repetition; each timed run follows one untimed run of the same
// strategy, so every strategy is measured in its own steady state (a forced
// mode would otherwise pay for the previous strategy's resident kernel).
bool compare(spool::Device& dev, HeatChain& w, int reps) {
  constexpr int kStrategies = 4;  // auto, launches, recorded, persistent
  const char* names[kStrategies] = {"auto", "launches", "recorded", "persistent"};
  std::array<bool, kStrategies> available{true, true, dev.impl().supports(spool::LaunchMode::recorded),
                                          dev.impl().supports(spool::LaunchMode::persistent)};
  std::printf("\ncomparison: each batch under the automatic choice and each forced mode, interleaved,\n"
              "median of %d timed runs, each after one untimed run of the same strategy (us per batch)\n\n",
              reps);
  std::printf("%-13s %-10s %10s %10s %10s %10s  %-10s %8s\n", "batch", "auto picks", "auto", "launches",
              "recorded", "persistent", "best", "auto/best");
  bool ok = true;
  int within5 = 0;
  for (std::size_t r = 0; r < HeatChain::kRows; ++r) {
    std::array<std::vector<double>, kStrategies> t;
    std::string picked;
    for (int rep = 0; rep < reps; ++rep) {
      for (int k = 0; k < kStrategies; ++k) {
        const int s = (k + rep) % kStrategies;  // rotate who goes first
        if (!available[static_cast<std::size_t>(s)]) continue;
        spool::SubmitOptions o;
        if (s > 0) o.force_mode = static_cast<spool::LaunchMode>(s - 1);
        w.row(r, o, &ok);  // primer
        const spool::Verdict v = w.row(r, o, &ok);
        t[static_cast<std::size_t>(s)].push_back(v.measured_ns);
        if (s == 0) picked = std::string(spool::policy::to_string(v.mode));
      }
    }
    std::array<double, kStrategies> m{};
    int best = 1;
    for (int s = 0; s < kStrategies; ++s) {
      m[static_cast<std::size_t>(s)] = available[static_cast<std::size_t>(s)] ? median(t[static_cast<std::size_t>(s)]) : -1;
      if (s > 0 && m[static_cast<std::size_t>(s)] >= 0 && m[static_cast<std::size_t>(s)] < m[static_cast<std::size_t>(best)]) best = s;
    }
    const double ratio = m[0] / m[static_cast<std::size_t>(best)];
    within5 += ratio <= 1.05 ? 1 : 0;
    std::printf("%-13s %-10s %10s %10s %10s %10s  %-10s %8.2f\n", HeatChain::row_name(r).c_str(), picked.c_str(),
                us(m[0]).c_str(), us(m[1]).c_str(), us(m[2]).c_str(), us(m[3]).c_str(), names[best], ratio);
  }
  std::printf("\nauto within 5%% of the best forced mode: %d of %zu batches\n", within5, HeatChain::kRows);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  try {
    spool::RuntimeOptions ro;
    if (!opt.telemetry.empty()) ro.device_options.telemetry_path = opt.telemetry;
    spool::Runtime rt = spool::make_runtime(ro);
    auto dev = rt.open_default();
    const auto p = dev->profile();
    std::printf("device: %s (%s, %s)\n", dev->name().c_str(), spool::to_string(dev->backend()),
                dev->info().driver_version.c_str());
    std::printf("launch profile (%s%s%s): L=%.1f us  R=%.1f us  r=%.2f us  P=%.1f us  p=%.2f us\n\n",
                p.source.c_str(), p.validation.empty() ? "" : "; ", p.validation.c_str(), p.launch_ns / 1e3,
                p.record_setup_ns / 1e3, p.replay_ns / 1e3, p.persistent_setup_ns / 1e3, p.queue_item_ns / 1e3);

    HeatChain w(*dev, opt.cells);
    bool all_ok = true;
    print_header();
    for (int round = 0; round < opt.rounds; ++round) {
      for (std::size_t r = 0; r < HeatChain::kRows; ++r) {
        print_verdict(HeatChain::row_name(r), w.row(r, {}, &all_ok));
      }
    }
    const auto q = dev->profile();
    std::printf("\nrefined profile (%llu samples): L=%.1f us  r=%.2f us  p=%.2f us\n",
                static_cast<unsigned long long>(q.samples), q.launch_ns / 1e3, q.replay_ns / 1e3,
                q.queue_item_ns / 1e3);
    if (opt.compare_reps > 0) all_ok = compare(*dev, w, opt.compare_reps) && all_ok;
    std::printf("%s\n", all_ok ? "all results match the CPU reference" : "RESULTS DO NOT MATCH");
    return all_ok ? 0 : 1;
  } catch (const spool::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
