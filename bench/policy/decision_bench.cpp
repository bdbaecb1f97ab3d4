// Cost of the per-batch decisions. They run once per submitted batch, so they
// must cost nanoseconds. Inputs rotate through a table so the compiler cannot
// constant-fold the decision.
#include <spool/policy/launch_mode.hpp>
#include <spool/policy/speculation.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>

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

BENCHMARK_MAIN();
