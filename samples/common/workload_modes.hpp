// Shared by the workload samples (cg_poisson, decode, bfs), bench/workloads
// and tests/samples: the launch mode a whole run is held to, a tally of the
// verdicts of one run, and the side-by-side comparison of the four modes.
// Header-only, public Spool API only, so a sample builds on its own against
// an installed Spool.
#pragma once

#include <spool/spool.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sample {

// `automatic` leaves every batch to Spool's policy; the others force one mode
// on every batch of the run.
enum class Mode : std::uint8_t { launches, recorded, persistent, automatic };
inline constexpr std::array<Mode, 4> kAllModes{Mode::launches, Mode::recorded, Mode::persistent,
                                               Mode::automatic};

inline std::string_view to_string(Mode m) noexcept {
  switch (m) {
    case Mode::launches: return "launches";
    case Mode::recorded: return "recorded";
    case Mode::persistent: return "persistent";
    case Mode::automatic: return "auto";
  }
  return "?";
}

inline spool::SubmitOptions submit_options(Mode m) {
  spool::SubmitOptions o;
  if (m != Mode::automatic) o.force_mode = static_cast<spool::LaunchMode>(m);
  return o;
}

// What the verdicts of one run said: how many batches and items went through
// each mode, and the first failure a verdict reported.
struct Tally {
  std::uint64_t batches = 0;
  std::uint64_t items = 0;
  std::array<std::uint64_t, 3> batches_by_mode{};
  std::array<std::uint64_t, 3> items_by_mode{};
  double measured_ns = 0;  // sum of Verdict::measured_ns (submit to completion)
  std::uint64_t failed_batches = 0;
  std::string first_failure;

  void add(const spool::Verdict& v) {
    const auto m = static_cast<std::size_t>(v.mode);
    ++batches;
    items += v.items;
    ++batches_by_mode[m];
    items_by_mode[m] += v.items;
    measured_ns += v.measured_ns;
    if (!v.ok()) {
      if (failed_batches++ == 0) {
        first_failure = "batch " + std::to_string(v.batch_id) + " (" + v.kernel + ", " +
                        std::to_string(v.items) + " items): " +
                        (v.failure.empty() ? std::to_string(v.items_failed) + " items failed" : v.failure);
      }
    }
  }

  // "persistent 39, launches 1" (batches per mode, most used first).
  std::string mode_mix() const {
    std::array<std::size_t, 3> order{0, 1, 2};
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return batches_by_mode[a] > batches_by_mode[b]; });
    std::string s;
    for (std::size_t m : order) {
      if (batches_by_mode[m] == 0) continue;
      if (!s.empty()) s += ", ";
      s += std::string(spool::policy::to_string(static_cast<spool::LaunchMode>(m))) + " " +
           std::to_string(batches_by_mode[m]);
    }
    return s.empty() ? "-" : s;
  }
};

// One run of a workload under one mode: wall time of the whole workload
// (setup and CPU reference excluded), its tally and its check.
struct ModeRun {
  Mode mode = Mode::automatic;
  double wall_ns = 0;
  Tally tally;
  bool correct = false;
  std::string check;  // one line: what was compared and how it came out
};

class Stopwatch {
 public:
  Stopwatch() : t0_(std::chrono::steady_clock::now()) {}
  double ns() const {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

// Runs `run_once(mode)` (returns a ModeRun) for every mode, `reps` times with
// the modes interleaved inside each repetition so that drift of the machine
// hits all modes alike; keeps, per mode, the repetition with the median wall
// time. A run that fails its check stays failed whatever the other
// repetitions did.
template <class RunOnce>
std::vector<ModeRun> compare_modes(RunOnce&& run_once, int reps) {
  std::array<std::vector<ModeRun>, 4> runs;
  for (int r = 0; r < reps; ++r) {
    for (Mode m : kAllModes) runs[static_cast<std::size_t>(m)].push_back(run_once(m));
  }
  std::vector<ModeRun> out;
  for (auto& rs : runs) {
    const auto failed = std::find_if(rs.begin(), rs.end(), [](const ModeRun& x) { return !x.correct; });
    const bool all_correct = failed == rs.end();
    const std::string failed_check = all_correct ? std::string() : failed->check;  // before sorting
    std::sort(rs.begin(), rs.end(), [](const ModeRun& a, const ModeRun& b) { return a.wall_ns < b.wall_ns; });
    ModeRun pick = rs[rs.size() / 2];
    if (!all_correct && pick.correct) {
      pick.correct = false;
      pick.check = "a repetition failed: " + failed_check;
    }
    out.push_back(std::move(pick));
  }
  return out;
}

// Index of the fastest forced mode (launches, recorded, persistent) in the
// output of compare_modes. A mode that computed a wrong result is never the
// best while another one was right.
inline std::size_t best_fixed(const std::vector<ModeRun>& runs) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < 3 && i < runs.size(); ++i) {
    const bool better = runs[i].correct != runs[best].correct ? runs[i].correct
                                                               : runs[i].wall_ns < runs[best].wall_ns;
    if (better) best = i;
  }
  return best;
}

inline void print_compare(const std::vector<ModeRun>& runs, const char* unit_name = nullptr,
                          double units = 0) {
  std::printf("\n%-11s %11s %9s %9s  %-40s %s\n", "mode", "total ms", "batches", "items", "modes chosen (batches)",
              "check");
  for (const auto& r : runs) {
    std::printf("%-11s %11.2f %9llu %9llu  %-40s %s\n", std::string(to_string(r.mode)).c_str(), r.wall_ns / 1e6,
                static_cast<unsigned long long>(r.tally.batches), static_cast<unsigned long long>(r.tally.items),
                r.tally.mode_mix().c_str(), r.correct ? "ok" : "MISMATCH");
  }
  if (unit_name != nullptr && units > 0) {
    std::printf("\n");
    for (const auto& r : runs) {
      std::printf("%-11s %11.1f %s/s\n", std::string(to_string(r.mode)).c_str(), units / (r.wall_ns / 1e9),
                  unit_name);
    }
  }
  if (runs.size() == 4) {
    const std::size_t b = best_fixed(runs);
    std::printf("\nauto / best fixed mode (%s): %.2f\n", std::string(to_string(runs[b].mode)).c_str(),
                runs[3].wall_ns / runs[b].wall_ns);
  }
}

inline void print_verdict(const spool::Verdict& v) {
  auto us = [](double ns) {
    char b[32];
    if (ns < 0) return std::string("-");
    std::snprintf(b, sizeof b, "%.1f", ns / 1e3);
    return std::string(b);
  };
  std::printf("  batch %-6llu %6u items  max grid %7u  %-10s%s  predicted us L/R/P %9s %9s %9s  measured %9s us%s\n",
              static_cast<unsigned long long>(v.batch_id), v.items, v.max_grid,
              std::string(spool::policy::to_string(v.mode)).c_str(), v.forced ? " (forced)" : "         ",
              us(v.predicted_ns[0]).c_str(), us(v.predicted_ns[1]).c_str(), us(v.predicted_ns[2]).c_str(),
              us(v.measured_ns).c_str(), v.ok() ? "" : ("  FAILED: " + v.failure).c_str());
}

// Opens the default device (SPOOL_DEVICE selects another) and prints what it
// is and the launch profile the dispatcher starts from. Telemetry goes to
// `telemetry` when given, else to SPOOL_TELEMETRY when set.
inline std::shared_ptr<spool::Device> open_device(spool::Runtime& rt, bool quiet) {
  auto dev = rt.open_default();
  if (!quiet) {
    const auto p = dev->profile();
    std::printf("device: %s (%s, %s)\n", dev->name().c_str(), spool::to_string(dev->backend()),
                dev->info().driver_version.c_str());
    std::printf("launch profile (%s): L=%.1f us  R=%.1f us  r=%.2f us  P=%.1f us  p=%.2f us\n", p.source.c_str(),
                p.launch_ns / 1e3, p.record_setup_ns / 1e3, p.replay_ns / 1e3, p.persistent_setup_ns / 1e3,
                p.queue_item_ns / 1e3);
  }
  return dev;
}

inline spool::RuntimeOptions runtime_options(const std::string& telemetry) {
  spool::RuntimeOptions ro;
  if (!telemetry.empty()) ro.device_options.telemetry_path = telemetry;
  return ro;
}

}  // namespace sample
