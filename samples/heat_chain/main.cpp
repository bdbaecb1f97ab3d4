// heat_chain: a many-small-kernels workload. A 1-D heat equation advanced by
// chains of tiny Jacobi steps (one kernel launch per step, each reading the
// previous step's output), then summed by a chain of pairwise reduction
// steps. Every result is checked against a CPU reference, and every batch's
// verdict (mode chosen, predicted cost of each mode, measured time) is printed.
//
//   spool_heat_chain [--cells N] [--rounds R] [--telemetry FILE]   (--help: usage)
#include <spool/spool.hpp>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  std::uint32_t cells = 256;
  int rounds = 2;
  std::string telemetry;
};

// Parses the command line; exits (0 for --help, 2 for wrong arguments) when
// there is nothing to run.
Options parse(int argc, char** argv) {
  Options o;
  CLI::App app{"A 1-D heat equation advanced by chains of tiny kernels, summed by a chain of\n"
               "reduction steps; every result checked against the CPU, every verdict printed.",
               "spool_heat_chain"};
  app.add_option("--cells", o.cells, "grid cells")->check(CLI::Range(2u, 65536u))->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds of the six chain lengths")->check(CLI::Range(1, 100))->capture_default_str();
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

void print_verdict(const char* what, const spool::Verdict& v) {
  const double pred = v.predicted_chosen_ns();
  const double err = pred > 0 ? 100.0 * (v.measured_ns - pred) / pred : 0.0;
  std::string race = v.variant;
  if (!v.race_role.empty()) race += " " + v.race_role + ":" + v.race_verdict;
  std::printf("%-14s %6u  %-10s %s %10s %10s %10s  %10s %+7.0f%%  %-8s %s\n", what, v.items,
              std::string(spool::policy::to_string(v.mode)).c_str(), v.forced ? "(forced)" : "        ",
              us(v.predicted_ns[0]).c_str(), us(v.predicted_ns[1]).c_str(), us(v.predicted_ns[2]).c_str(),
              us(v.measured_ns).c_str(), err, race.c_str(), v.ok() ? "ok" : v.failure.c_str());
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
    std::printf("launch profile (%s): L=%.1f us  R=%.1f us  r=%.2f us  P=%.1f us  p=%.2f us\n\n",
                p.source.c_str(), p.launch_ns / 1e3, p.record_setup_ns / 1e3, p.replay_ns / 1e3,
                p.persistent_setup_ns / 1e3, p.queue_item_ns / 1e3);

    const std::uint32_t n = opt.cells;
    auto a = dev->buffer(n * sizeof(float));
    auto b = dev->buffer(n * sizeof(float));
    auto stencil = dev->kernel("stencil_step");
    auto reduce = dev->kernel("reduce_step");
    const float alpha = 0.25f;

    std::printf("%-14s %6s  %-10s %8s %10s %10s %10s  %10s %8s  %s\n", "batch", "items", "mode", "",
                "launch us", "record us", "persist us", "measured", "error", "variant (race)");
    bool all_ok = true;
    for (int round = 0; round < opt.rounds; ++round) {
      for (std::uint32_t steps : {1u, 4u, 16u, 64u, 256u, 1024u}) {
        // Initial condition: a hot spike in the middle.
        std::vector<float> ref(n, 0.0f), tmp(n);
        ref[n / 2] = 1000.0f;
        std::memcpy(a.data(), ref.data(), n * sizeof(float));
        std::memset(b.data(), 0, n * sizeof(float));

        spool::Batch chain(stencil, spool::Ordering::sequential);
        chain.reserve(steps);
        for (std::uint32_t s = 0; s < steps; ++s) {
          const auto& src = s % 2 == 0 ? a : b;
          const auto& dst = s % 2 == 0 ? b : a;
          chain.add(n, {spool::arg(src), spool::arg(dst), spool::arg(alpha), spool::arg(n)});
        }
        const auto v = dev->run(std::move(chain));
        print_verdict(("stencil x" + std::to_string(steps)).c_str(), v);
        all_ok = all_ok && v.ok();

        for (std::uint32_t s = 0; s < steps; ++s) {
          for (std::uint32_t i = 0; i < n; ++i) {
            tmp[i] = (i == 0 || i + 1 == n)
                         ? ref[i]
                         : ref[i] + alpha * (ref[i - 1] - 2.0f * ref[i] + ref[i + 1]);
          }
          ref.swap(tmp);
        }
        const float* out = (steps % 2 == 0 ? a : b).as<float>().data();
        double max_err = 0;
        for (std::uint32_t i = 0; i < n; ++i) max_err = std::max(max_err, double(std::fabs(out[i] - ref[i])));
        if (max_err > 1e-2) {
          std::printf("MISMATCH after %u steps: max error %.4g\n", steps, max_err);
          all_ok = false;
        }
      }
      // Sum the final field with a chain of reduction steps (in place, halving).
      std::vector<float> field(a.as<float>().begin(), a.as<float>().end());
      spool::Batch sum(reduce, spool::Ordering::sequential);
      std::uint32_t len = n;
      bool from_a = true;
      while (len > 1) {
        const std::uint32_t half = (len + 1) / 2;
        sum.add(half, {spool::arg(from_a ? a : b), spool::arg(from_a ? b : a), spool::arg(len)});
        from_a = !from_a;
        len = half;
      }
      const auto v = dev->run(std::move(sum));
      print_verdict("reduce", v);
      double expect = 0;
      for (float x : field) expect += x;
      const float got = (from_a ? a : b).as<float>()[0];
      if (std::fabs(got - expect) > 1e-3 * std::max(1.0, std::fabs(expect))) {
        std::printf("MISMATCH in reduction: got %.6g expected %.6g\n", double(got), expect);
        all_ok = false;
      }
    }
    const auto q = dev->profile();
    std::printf("\nrefined profile (%llu samples): L=%.1f us  r=%.2f us  p=%.2f us\n",
                static_cast<unsigned long long>(q.samples), q.launch_ns / 1e3, q.replay_ns / 1e3,
                q.queue_item_ns / 1e3);
    std::printf("%s\n", all_ok ? "all results match the CPU reference" : "RESULTS DO NOT MATCH");
    return all_ok ? 0 : 1;
  } catch (const spool::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
