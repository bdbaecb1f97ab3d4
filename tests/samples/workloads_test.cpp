// The three workload samples (samples/cg_poisson, samples/decode, samples/bfs)
// on small instances, in every mode: each run is checked element by element
// against the workload's own CPU reference (tolerances stated in each
// workload's .cpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

#include "bfs_workload.hpp"
#include "cg_workload.hpp"
#include "decode_workload.hpp"
#include "workload_modes.hpp"

namespace sample {
// Test names and failure messages show the mode by name.
inline void PrintTo(Mode m, std::ostream* os) { *os << to_string(m); }
}  // namespace sample

namespace {

using sample::Mode;

// Auto needs a measured launch profile to choose among all three modes; the
// forced modes do not. The store is in memory: nothing outside the test is
// read or written.
std::shared_ptr<spool::Device> open_device(Mode m) {
  spool::RuntimeOptions o;
  o.device_options.calibrate = m == Mode::automatic;
  o.device_options.autotune = "off";
  o.device_options.autotune_db = ":memory:";
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

#define REQUIRE_DEVICE(dev) \
  if (!(dev)) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)"

std::string name(const ::testing::TestParamInfo<Mode>& info) {
  return info.param == Mode::automatic ? "Auto" : [&] {
    std::string s(sample::to_string(info.param));
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
  }();
}

void expect_every_batch_in(const sample::ModeRun& r, Mode m) {
  ASSERT_GT(r.tally.batches, 0u);
  EXPECT_EQ(r.tally.failed_batches, 0u) << r.tally.first_failure;
  if (m == Mode::automatic) return;
  EXPECT_EQ(r.tally.batches_by_mode[static_cast<std::size_t>(m)], r.tally.batches) << r.tally.mode_mix();
}

class CgPoisson : public ::testing::TestWithParam<Mode> {};

TEST_P(CgPoisson, SolutionMatchesCpuSolver) {
  auto dev = open_device(GetParam());
  REQUIRE_DEVICE(dev);
  cg::Params p;
  p.grid = 24;        // 576 unknowns: 7 items per iteration, ~60 iterations
  p.check_every = 4;  // several batches, and overshoot past convergence
  cg::Workload w(*dev, p);
  ASSERT_TRUE(w.reference().converged);
  const auto r = w.run(GetParam());
  expect_every_batch_in(r, GetParam());
  EXPECT_TRUE(r.correct) << r.check;
  EXPECT_EQ(w.last().iterations, w.reference().iterations) << r.check;
}

class Decode : public ::testing::TestWithParam<Mode> {};

TEST_P(Decode, EveryTokenMatchesCpuForwardPass) {
  auto dev = open_device(GetParam());
  REQUIRE_DEVICE(dev);
  decode::Params p;
  p.dim = 40;  // not a multiple of 16: partial tiles
  p.hidden = 72;
  p.vocab = 300;  // three argmax levels
  p.layers = 2;
  p.tokens = 12;
  decode::Workload w(*dev, p);
  const auto r = w.run(GetParam());
  expect_every_batch_in(r, GetParam());
  EXPECT_EQ(r.tally.batches, p.tokens);
  EXPECT_TRUE(r.correct) << r.check;
}

// A resident kernel that serves a long run: 400 tokens, ~9000 items, one
// sequential batch per token, so the persistent shader stays resident
// between tokens. (On lavapipe this exceeds the per-invocation loop budget
// of a resident shader; see issue 11.)
TEST(DecodeLong, PersistentKernelServesFourHundredTokensCorrectly) {
  auto dev = open_device(Mode::persistent);
  REQUIRE_DEVICE(dev);
  decode::Params p;
  p.dim = 40;
  p.hidden = 72;
  p.vocab = 300;
  p.layers = 2;
  p.tokens = 400;
  decode::Workload w(*dev, p);
  const auto r = w.run(Mode::persistent);
  expect_every_batch_in(r, Mode::persistent);
  EXPECT_TRUE(r.correct) << r.check;
}

class Bfs : public ::testing::TestWithParam<Mode> {};

TEST_P(Bfs, RmatLevelsAndParentsMatchCpuBfs) {
  auto dev = open_device(GetParam());
  REQUIRE_DEVICE(dev);
  bfs::Params p;
  p.kind = bfs::GraphKind::rmat;
  p.vertices = 1u << 12;
  p.item_size = 32;  // several items per batch
  bfs::Workload w(*dev, p);
  ASSERT_GT(w.graph().max_degree, 64u);  // hubs: child chunks, extra passes per level
  const auto r = w.run(GetParam());
  expect_every_batch_in(r, GetParam());
  EXPECT_TRUE(r.correct) << r.check;
  std::uint32_t extra_passes = 0;
  for (const auto& l : w.last_levels()) extra_passes += l.passes - 1;
  EXPECT_GT(extra_passes, 0u) << "no level needed a second pass: the chunk tree was not exercised";
}

TEST_P(Bfs, GridWithShortcutsMatchesCpuBfs) {
  auto dev = open_device(GetParam());
  REQUIRE_DEVICE(dev);
  bfs::Params p;
  p.kind = bfs::GraphKind::grid;
  p.vertices = 30 * 30;
  p.shortcuts = 0.02;
  p.item_size = 8;
  bfs::Workload w(*dev, p);
  const auto r = w.run(GetParam());
  expect_every_batch_in(r, GetParam());
  EXPECT_TRUE(r.correct) << r.check;
  EXPECT_GT(w.last_levels().size(), 10u);
}

INSTANTIATE_TEST_SUITE_P(Modes, CgPoisson,
                         ::testing::Values(Mode::launches, Mode::recorded, Mode::persistent, Mode::automatic), name);
INSTANTIATE_TEST_SUITE_P(Modes, Decode,
                         ::testing::Values(Mode::launches, Mode::recorded, Mode::persistent, Mode::automatic), name);
INSTANTIATE_TEST_SUITE_P(Modes, Bfs,
                         ::testing::Values(Mode::launches, Mode::recorded, Mode::persistent, Mode::automatic), name);

// With telemetry on, every batch of a run is one verdict line, as
// `spool telemetry` and the docs expect.
TEST(WorkloadTelemetry, EveryBatchOfARunIsOneVerdictLine) {
  const std::string path = ::testing::TempDir() + "samples_telemetry_" + std::to_string(::getpid()) + ".jsonl";
  std::remove(path.c_str());
  sample::Tally tally;
  {
    spool::RuntimeOptions o;
    o.device_options.calibrate = false;
    o.device_options.autotune = "off";
    o.device_options.autotune_db = ":memory:";
    o.device_options.telemetry_path = path;
    auto rt = spool::make_runtime(o);
    if (rt.devices().empty()) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)";
    auto dev = rt.open_default();
    bfs::Params p;
    p.kind = bfs::GraphKind::grid;
    p.vertices = 100;
    bfs::Workload w(*dev, p);
    const auto r = w.run(Mode::automatic);
    ASSERT_TRUE(r.correct) << r.check;
    tally = r.tally;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  std::uint64_t lines = 0, ours = 0;
  while (std::getline(in, line)) {
    ++lines;
    ours += line.find("\"kernel\":\"bfs_expand\"") != std::string::npos;
  }
  EXPECT_EQ(lines, tally.batches);
  EXPECT_EQ(ours, tally.batches);
  std::remove(path.c_str());
}

// compare_modes: the median repetition per mode, a failed repetition never
// hidden by the others, and a wrong mode never the best.
TEST(CompareModes, KeepsTheMedianAndNeverHidesAFailedRepetition) {
  int call = 0;
  const double walls[3][4] = {{30, 20, 10, 12}, {10, 25, 11, 13}, {20, 21, 12, 11}};
  const auto runs = sample::compare_modes(
      [&](Mode m) {
        const int rep = call++ / 4;
        sample::ModeRun r;
        r.mode = m;
        r.wall_ns = walls[rep][static_cast<int>(m)];
        r.correct = !(m == Mode::persistent && rep == 2);  // persistent wrong once
        r.check = "rep " + std::to_string(rep);
        return r;
      },
      3);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].wall_ns, 20);  // launches: median of 30, 10, 20
  EXPECT_EQ(runs[1].wall_ns, 21);
  EXPECT_EQ(runs[2].wall_ns, 11);
  EXPECT_FALSE(runs[2].correct);
  EXPECT_NE(runs[2].check.find("rep 2"), std::string::npos) << runs[2].check;
  EXPECT_TRUE(runs[3].correct);
  // persistent is fastest but wrong: launches (20) is the best fixed mode.
  EXPECT_EQ(sample::best_fixed(runs), 0u);
}

// Bad parameters are refused with a reason before any device work.
TEST(WorkloadParams, OutOfRangeParametersAreRejected) {
  cg::Params c;
  c.grid = 2;
  EXPECT_THROW(cg::make_problem(c), std::invalid_argument);
  c.grid = 16;
  c.max_iters = 2'000'000;  // the per-iteration scalars would not fit sensibly
  EXPECT_THROW(cg::make_problem(c), std::invalid_argument);
  decode::Params d;
  d.vocab = 1;
  EXPECT_THROW(decode::make_model(d), std::invalid_argument);
  d.vocab = 512;
  d.dim = 4096;
  d.hidden = 16384;
  d.layers = 64;  // 8.6 G weights: refused before anything is allocated
  EXPECT_THROW(decode::make_model(d), std::invalid_argument);
  bfs::Params b;
  b.vertices = 1000;
  b.source = 5000;
  EXPECT_THROW(bfs::make_graph(b), std::invalid_argument);
  b.source = -2;
  EXPECT_THROW(bfs::make_graph(b), std::invalid_argument);
  b.source = -1;
  b.vertices = 1u << 24;
  b.edge_factor = 64;
  EXPECT_THROW(bfs::make_graph(b), std::invalid_argument);
}

// The CPU references are right on instances small enough to know by hand.
TEST(WorkloadReferences, CpuBfsOnAPathGraph) {
  bfs::Params p;
  p.kind = bfs::GraphKind::grid;
  p.vertices = 16;  // a 4 x 4 grid
  p.shortcuts = 0;
  p.source = 0;
  const bfs::Graph g = bfs::make_graph(p);
  ASSERT_EQ(g.n, 16u);
  EXPECT_EQ(g.adj.size(), 2u * 24u);  // 24 undirected edges
  const auto level = bfs::bfs_cpu(g);
  for (std::uint32_t y = 0; y < 4; ++y) {
    for (std::uint32_t x = 0; x < 4; ++x) EXPECT_EQ(level[y * 4 + x], x + y);
  }
}

TEST(WorkloadReferences, CpuCgSolvesTheDiscretePoissonProblem) {
  cg::Params p;
  p.grid = 16;
  const cg::Problem pr = cg::make_problem(p);
  const cg::Solution s = cg::solve_cpu(pr);
  ASSERT_TRUE(s.converged);
  // CG on n unknowns converges in at most n steps in exact arithmetic.
  EXPECT_LE(s.iterations, pr.n);
  double res2 = 0, b2 = 0;
  for (std::uint32_t row = 0; row < pr.n; ++row) {
    double ax = 0;
    for (std::uint32_t e = 0; e < 5; ++e) ax += double(pr.val[5 * row + e]) * s.x[pr.col[5 * row + e]];
    res2 += (ax - pr.b[row]) * (ax - pr.b[row]);
    b2 += double(pr.b[row]) * pr.b[row];
  }
  // |b - A x| / |b| near the tolerance (1e-5); float rounding adds a little.
  EXPECT_LT(std::sqrt(res2 / b2), 1e-4);
}

}  // namespace
