// Cost of the per-batch decisions. They run once per submitted batch, so they
// must cost nanoseconds. Inputs rotate through a table so the compiler cannot
// constant-fold the decision.
#include <spool/policy/launch_mode.hpp>
#include <spool/policy/speculation.hpp>

#include <benchmark/benchmark.h>

#include <CLI/CLI.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kTable = 1024;

std::array<spool::policy::LaunchModeInputs, kTable> make_launch_inputs() {
  std::array<spool::policy::LaunchModeInputs, kTable> t{};
  std::mt19937_64 rng(42);
  for (auto& in : t) {
    in.batch_size = static_cast<std::uint32_t>(rng() % 100'000);
    in.per_item_kernel_ns = rng() % 10'000;
    in.launches = {true, 0, 1'000 + rng() % 100'000};
    in.recorded = {true, rng() % 100'000, rng() % 20'000};
    in.persistent = {true, rng() % 1'000'000, rng() % 3'000};
    in.persistent_resident = (rng() & 1) != 0;
  }
  return t;
}

std::array<spool::policy::SpeculationObservation, kTable> make_spec_inputs() {
  std::array<spool::policy::SpeculationObservation, kTable> t{};
  std::mt19937_64 rng(43);
  for (auto& o : t) {
    o = {static_cast<std::uint32_t>(rng() % 64), rng() % 200'000,
         static_cast<std::uint32_t>(rng() % 64), rng() % 200'000, rng() % 5'000'000};
  }
  return t;
}

void BM_ChooseLaunchMode(benchmark::State& state) {
  const auto table = make_launch_inputs();
  std::size_t i = 0;
  for (auto _ : state) {
    auto d = spool::policy::choose_launch_mode(table[i++ & (kTable - 1)]);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChooseLaunchMode);

void BM_EvaluateSpeculation(benchmark::State& state) {
  const auto table = make_spec_inputs();
  std::size_t i = 0;
  for (auto _ : state) {
    auto d = spool::policy::evaluate_speculation(table[i++ & (kTable - 1)]);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateSpeculation);

}  // namespace

// The command line: --help lists this program's own usage (CLI11, like every
// Spool sample and benchmark); everything else goes to Google Benchmark.
int main(int argc, char** argv) {
  CLI::App cli{"Cost of the per-batch decisions (launch mode, speculation verdict), in ns.", "bench_policy"};
  cli.allow_extras();
  cli.footer("Other arguments go to Google Benchmark, e.g. --benchmark_filter=REGEX,\n"
             "--benchmark_repetitions=N, --benchmark_format=json, --benchmark_list_tests.");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  std::vector<std::string> rest = cli.remaining();
  std::vector<char*> args{argv[0]};
  for (auto& a : rest) args.push_back(a.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
