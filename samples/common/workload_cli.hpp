// The options every workload sample shares (CLI11), and the main flow: open
// the device, run the workload once under --mode, or under every mode with
// --compare, print what happened and return 0 only when every run matched
// the CPU reference.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "workload_modes.hpp"

namespace sample {

struct CommonOptions {
  std::string mode_name = "auto";
  bool compare = false;
  int reps = 1;
  std::string telemetry;
  bool verbose = false;
};

inline void add_common_options(CLI::App& app, CommonOptions& o) {
  auto* mode = app.add_option("--mode", o.mode_name,
                              "launch mode for every batch: launches, recorded, persistent, or auto (Spool's "
                              "policy decides per batch)")
                   ->check(CLI::IsMember({"launches", "recorded", "persistent", "auto"}))
                   ->capture_default_str();
  app.add_flag("--compare", o.compare,
               "run the whole workload under each forced mode and under auto; print the total time per mode "
               "and auto's ratio to the best forced mode")
      ->excludes(mode);
  app.add_option("--reps", o.reps, "with --compare: repetitions per mode, interleaved; the median is shown")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  app.add_option("--telemetry", o.telemetry,
                 "write every verdict as a JSON line to FILE (default: SPOOL_TELEMETRY when set)");
  app.add_flag("--verbose", o.verbose, "print the verdict of every batch");
}

inline Mode parse_mode(const std::string& name) {
  for (Mode m : kAllModes) {
    if (to_string(m) == name) return m;
  }
  throw std::invalid_argument("unknown mode '" + name + "' (launches, recorded, persistent, auto)");
}

// Runs the workload `W` (see cg::Workload for the shape) as the options say.
// `make` builds it for an opened device; `units`/`unit_name` give a rate
// ("tokens") for the comparison table, 0 for none.
template <class Make>
int drive(const CommonOptions& o, Make&& make, const char* unit_name = nullptr, double units = 0) {
  try {
    spool::Runtime rt = spool::make_runtime(runtime_options(o.telemetry));
    auto dev = open_device(rt, false);
    auto w = make(*dev);
    std::printf("workload: %s\n", w->describe().c_str());
    if (const char* forced = std::getenv("SPOOL_MODE"); forced != nullptr && *forced != '\0') {
      std::printf("note: SPOOL_MODE=%s forces every batch the sample leaves to the policy\n", forced);
    }
    if (o.compare) {
      w->warm_up();
      const auto runs = compare_modes([&](Mode m) { return w->run(m, o.verbose); }, o.reps);
      print_compare(runs, unit_name, units);
      for (const auto& r : runs) std::printf("%-11s %s\n", std::string(to_string(r.mode)).c_str(), r.check.c_str());
      const bool ok = std::all_of(runs.begin(), runs.end(), [](const ModeRun& r) { return r.correct; });
      std::printf("%s\n", ok ? "all modes match the CPU reference" : "RESULTS DO NOT MATCH");
      return ok ? 0 : 1;
    }
    const ModeRun r = w->run(parse_mode(o.mode_name), o.verbose);
    std::printf("mode %s: %.2f ms, %llu batches, %llu items, modes chosen (batches): %s\n",
                std::string(to_string(r.mode)).c_str(), r.wall_ns / 1e6,
                static_cast<unsigned long long>(r.tally.batches), static_cast<unsigned long long>(r.tally.items),
                r.tally.mode_mix().c_str());
    if (unit_name != nullptr && units > 0) std::printf("rate: %.1f %s/s\n", units / (r.wall_ns / 1e9), unit_name);
    if constexpr (requires { w->print_details(); }) w->print_details();
    std::printf("check: %s\n", r.check.c_str());
    std::printf("%s\n", r.correct ? "all results match the CPU reference" : "RESULTS DO NOT MATCH");
    return r.correct ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace sample
