// GPU tests of the CUDA persistent mode over the core's queue: random
// batches checked element by element against a CPU reference in every mode,
// exactly-once with one block and with far more blocks than fit, sequential
// order across blocks, a stalled item recovered by the watchdog, a hung
// kernel that ends, and memory released while the kernel is resident.
// Every test skips, saying why, without a CUDA device.
//
// scripts/gpu_check.sh runs this binary three times: as it is (the default
// grid), with SPOOL_PERSISTENT_GROUPS=1 and with far more blocks than fit.
// SPOOL_TEST_SEED=<n> replays one differential case.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "gpu_fixture.hpp"
#include "spool/backend/ring_abi.h"
#include "spool/error.hpp"
#include "spool_cuda_abi.hpp"

namespace {

using namespace spool;
using backend::ExecResult;
using backend::PackedItem;
using test::DeviceArray;
using test::kModes;

struct PersistentGpu : ::testing::Test {
  std::unique_ptr<backend::Backend> be;
  void SetUp() override {
    be = cuda::make_backend();
    std::string why;
    if (be->enumerate(&why).empty()) GTEST_SKIP() << "no CUDA device: " << why;
  }
  std::unique_ptr<backend::DeviceImpl> open(std::map<std::string, std::string> env = {}) {
    auto d = test::open_cuda(*be, env);
    EXPECT_NE(d, nullptr);
    return d;
  }
  // Blocks the default persistent grid cannot all hold resident: four times
  // what fits (occupancy x SMs) of the tally kernel.
  std::uint32_t far_more_blocks_than_fit(backend::DeviceImpl& d) {
    auto k = std::dynamic_pointer_cast<cuda::CuKernelImpl>(d.load_builtin("tally", {}));
    const int per_sm = k->persistent_occupancy();
    return 4u * static_cast<std::uint32_t>(std::max(per_sm, 1)) * d.info().limits.compute_units;
  }
};

template <class A>
const std::byte* bytes(const A& a) {
  return reinterpret_cast<const std::byte*>(&a);
}

// ---- exactly-once ----

// `items` tally items with grids from 1 to max_grid over one counter array:
// every counter must be 1 after the batch, whatever splits and blocks.
void tally_exactly_once(backend::DeviceImpl& dev, LaunchMode m, std::uint32_t items, std::uint32_t max_grid,
                        bool seq, std::uint32_t seed) {
  SCOPED_TRACE("mode " + std::string(to_string(m)) + " seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::vector<cuda::abi::TallyArgs> args(items);
  std::vector<PackedItem> batch(items);
  std::uint32_t total = 0;
  std::vector<std::uint32_t> grid(items);
  for (std::uint32_t i = 0; i < items; ++i) {
    grid[i] = 1 + static_cast<std::uint32_t>(rng() % max_grid);
    total += grid[i];
  }
  DeviceArray<std::uint32_t> counts(total + 64);
  counts.put(std::vector<std::uint32_t>(total + 64, 0));
  std::uint32_t at = 0;
  for (std::uint32_t i = 0; i < items; ++i) {
    args[i] = cuda::abi::TallyArgs{counts.p, at};
    batch[i] = PackedItem{grid[i], i, bytes(args[i])};
    at += grid[i];
  }
  auto k = dev.load_builtin("tally", {});
  const ExecResult r = test::run_batch(dev, m, *k, batch, seq);
  EXPECT_EQ(r.items_run, items);
  EXPECT_EQ(r.items_failed, 0u) << r.failure;
  const auto h = counts.get();
  std::uint32_t wrong = 0;
  for (std::uint32_t i = 0; i < total + 64; ++i) {
    const std::uint32_t want = i < total ? 1u : 0u;
    if (h[i] != want && ++wrong <= 5) ADD_FAILURE() << "counter " << i << " = " << h[i] << ", want " << want;
  }
  EXPECT_EQ(wrong, 0u);
}

TEST_F(PersistentGpu, EveryIndexRunsOnceInEveryModeWithTheGridOfThisRun) {
  auto dev = open();
  for (LaunchMode m : kModes) {
    tally_exactly_once(*dev, m, 3000, 320, false, 11);  // the 3000 x 320
    tally_exactly_once(*dev, m, 40, 600000, true, 12);  // chunked across blocks
  }
}

TEST_F(PersistentGpu, EveryIndexRunsOnceWithOneBlockAndWithFarMoreBlocksThanFit) {
  auto probe = open();
  const std::uint32_t many = far_more_blocks_than_fit(*probe);
  probe.reset();
  for (const std::uint32_t blocks : {1u, many}) {
    SCOPED_TRACE("SPOOL_PERSISTENT_GROUPS=" + std::to_string(blocks));
    auto dev = open({{"SPOOL_PERSISTENT_GROUPS", std::to_string(blocks)}, {"SPOOL_QUEUE_SLOTS", "64"}});
    tally_exactly_once(*dev, LaunchMode::persistent, 2000, 500, false, 21);
    tally_exactly_once(*dev, LaunchMode::persistent, 200, 70000, true, 22);
    dev->park_persistent();  // every block, resident or not, gets to run and exit
    tally_exactly_once(*dev, LaunchMode::persistent, 10, 1, false, 23);
  }
}

// ---- differential: random batches against a CPU reference ----

enum class Kind { saxpy, reduce_step, stencil_step, tally };
const char* name(Kind k) {
  switch (k) {
    case Kind::saxpy: return "saxpy";
    case Kind::reduce_step: return "reduce_step";
    case Kind::stencil_step: return "stencil_step";
    case Kind::tally: return "tally";
  }
  return "?";
}

struct Case {
  Kind kind = Kind::saxpy;
  bool seq = false;
  std::vector<std::uint32_t> grids;
};

Case make_case(std::uint32_t seed) {
  std::mt19937 rng(seed);
  Case c;
  c.kind = static_cast<Kind>(rng() % 4);
  c.seq = rng() % 2 == 0;
  const std::uint32_t n = 1 + static_cast<std::uint32_t>(rng() % 48);
  const std::uint32_t caps[] = {64, 4096, 70000, 600000};
  const std::uint32_t r = static_cast<std::uint32_t>(rng() % 100);
  const std::uint32_t cap = caps[r < 40 ? 0 : r < 75 ? 1 : r < 95 ? 2 : 3];
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < n && total < (4u << 20); ++i) {
    c.grids.push_back(1 + static_cast<std::uint32_t>(rng() % cap));
    total += c.grids.back();
  }
  return c;
}

// Runs one case in mode `m` on device memory and returns how many elements
// differ from the CPU reference. Values are small integers (and quarters in
// the stencil) so every result is exact in float, contracted or not.
std::uint32_t run_case(backend::DeviceImpl& dev, const Case& c, LaunchMode m) {
  auto k = dev.load_builtin(name(c.kind), {});
  const std::size_t n_items = c.grids.size();
  std::vector<PackedItem> batch(n_items);
  std::uint64_t total = 0;
  std::uint32_t gmax = 0;
  for (auto g : c.grids) {
    total += g;
    gmax = std::max(gmax, g);
  }
  std::uint32_t bad = 0;
  auto compare = [&](const std::vector<float>& got, const std::vector<float>& want) {
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (got[i] != want[i] && ++bad <= 5) {
        ADD_FAILURE() << name(c.kind) << " " << to_string(m) << " element " << i << ": " << got[i] << ", want "
                      << want[i];
      }
    }
  };
  switch (c.kind) {
    case Kind::saxpy: {
      // Sequential: every item updates [0, grid) of one y (a race would lose
      // updates). Otherwise: disjoint ranges.
      const std::size_t size = c.seq ? gmax : total;
      std::vector<float> x(size), y(size);
      for (std::size_t i = 0; i < size; ++i) {
        x[i] = float(i % 7 + 1);
        y[i] = float(i % 3);
      }
      DeviceArray<float> dx(size), dy(size);
      dx.put(x);
      dy.put(y);
      std::vector<cuda::abi::SaxpyArgs> args(n_items);
      std::size_t at = 0;
      for (std::size_t j = 0; j < n_items; ++j) {
        const float a = float(1 + j % 2);
        const std::size_t off = c.seq ? 0 : at;
        args[j] = cuda::abi::SaxpyArgs{dx.p + off, dy.p + off, a, c.grids[j]};
        batch[j] = PackedItem{c.grids[j], std::uint32_t(j), bytes(args[j])};
        for (std::uint32_t i = 0; i < c.grids[j]; ++i) y[off + i] = a * x[off + i] + y[off + i];
        at += c.grids[j];
      }
      const ExecResult r = test::run_batch(dev, m, *k, batch, c.seq);
      EXPECT_EQ(r.items_failed, 0u) << r.failure;
      compare(dy.get(), y);
      break;
    }
    case Kind::reduce_step: {
      // Sequential: a chain halving one array back and forth between two
      // buffers (each step reads the one before). Otherwise: disjoint.
      std::vector<std::uint32_t> n(n_items);
      std::size_t in_size = 0, out_size = 0;
      if (c.seq) {
        n[0] = 2 * c.grids[0] - (c.grids[0] > 1 ? 1 : 0);
        for (std::size_t j = 1; j < n_items; ++j) n[j] = std::max<std::uint32_t>(1, (n[j - 1] + 1) / 2);
        in_size = out_size = n[0];
      } else {
        for (std::size_t j = 0; j < n_items; ++j) {
          n[j] = 2 * c.grids[j] - (j % 2);
          in_size += n[j];
          out_size += c.grids[j];
        }
      }
      std::vector<float> a(in_size), b(out_size, -1.0f);
      for (std::size_t i = 0; i < in_size; ++i) a[i] = float(i % 5);
      DeviceArray<float> da(in_size), db(out_size);
      da.put(a);
      db.put(b);
      std::vector<cuda::abi::ReduceStepArgs> args(n_items);
      std::size_t in_at = 0, out_at = 0;
      for (std::size_t j = 0; j < n_items; ++j) {
        float* in = c.seq ? (j % 2 == 0 ? da.p : db.p) : da.p + in_at;
        float* out = c.seq ? (j % 2 == 0 ? db.p : da.p) : db.p + out_at;
        std::vector<float>& hin = c.seq && j % 2 == 1 ? b : a;
        std::vector<float>& hout = c.seq && j % 2 == 1 ? a : b;
        const std::size_t ioff = c.seq ? 0 : in_at, ooff = c.seq ? 0 : out_at;
        const std::uint32_t grid = c.seq ? (n[j] + 1) / 2 : c.grids[j];
        args[j] = cuda::abi::ReduceStepArgs{in, out, n[j]};
        batch[j] = PackedItem{grid, std::uint32_t(j), bytes(args[j])};
        for (std::uint32_t i = 0; i < grid; ++i) {
          const std::uint32_t q = 2 * i;
          if (q >= n[j]) continue;
          hout[ooff + i] = hin[ioff + q] + (q + 1 < n[j] ? hin[ioff + q + 1] : 0.0f);
        }
        in_at += n[j];
        out_at += c.grids[j];
      }
      const ExecResult r = test::run_batch(dev, m, *k, batch, c.seq);
      EXPECT_EQ(r.items_failed, 0u) << r.failure;
      compare(da.get(), a);
      compare(db.get(), b);
      break;
    }
    case Kind::stencil_step: {
      // Sequential: up to six Jacobi steps back and forth over one range
      // (quarters stay exact). Otherwise: disjoint ranges.
      const std::size_t steps = c.seq ? std::min<std::size_t>(n_items, 6) : n_items;
      const std::uint32_t len = c.grids[0];
      const std::size_t size = c.seq ? len : total;
      std::vector<float> s(size), d(size, 0.0f);
      for (std::size_t i = 0; i < size; ++i) s[i] = float(i % 9);
      DeviceArray<float> ds(size), dd(size);
      ds.put(s);
      dd.put(d);
      std::vector<cuda::abi::StencilStepArgs> args(steps);
      batch.resize(steps);
      std::size_t at = 0;
      for (std::size_t j = 0; j < steps; ++j) {
        const std::uint32_t g = c.seq ? len : c.grids[j];
        const std::size_t off = c.seq ? 0 : at;
        const bool flip = c.seq && j % 2 == 1;
        args[j] = cuda::abi::StencilStepArgs{(flip ? dd.p : ds.p) + off, (flip ? ds.p : dd.p) + off, 0.25f, g};
        batch[j] = PackedItem{g, std::uint32_t(j), bytes(args[j])};
        std::vector<float>& hs = flip ? d : s;
        std::vector<float>& hd = flip ? s : d;
        const std::vector<float> src(hs.begin() + off, hs.begin() + off + g);
        for (std::uint32_t i = 0; i < g; ++i) {
          hd[off + i] = (i == 0 || i + 1 >= g) ? src[i] : src[i] + 0.25f * (src[i - 1] - 2.0f * src[i] + src[i + 1]);
        }
        at += g;
      }
      const ExecResult r = test::run_batch(dev, m, *k, batch, c.seq);
      EXPECT_EQ(r.items_failed, 0u) << r.failure;
      compare(ds.get(), s);
      compare(dd.get(), d);
      break;
    }
    case Kind::tally: {
      DeviceArray<std::uint32_t> counts(total);
      counts.put(std::vector<std::uint32_t>(total, 0));
      std::vector<cuda::abi::TallyArgs> args(n_items);
      std::uint32_t at = 0;
      for (std::size_t j = 0; j < n_items; ++j) {
        args[j] = cuda::abi::TallyArgs{counts.p, at};
        batch[j] = PackedItem{c.grids[j], std::uint32_t(j), bytes(args[j])};
        at += c.grids[j];
      }
      const ExecResult r = test::run_batch(dev, m, *k, batch, c.seq);
      EXPECT_EQ(r.items_failed, 0u) << r.failure;
      const auto h = counts.get();
      for (std::size_t i = 0; i < total; ++i) {
        if (h[i] != 1u && ++bad <= 5) ADD_FAILURE() << "tally " << to_string(m) << " counter " << i << " = " << h[i];
      }
      break;
    }
  }
  return bad;
}

TEST_F(PersistentGpu, RandomBatchesMatchTheCpuInEveryMode) {
  auto dev = open({{"SPOOL_PARK_US", "50"}});  // park often: cold and warm starts alike
  std::vector<std::uint32_t> seeds;
  if (const char* s = std::getenv("SPOOL_TEST_SEED")) {
    seeds.push_back(static_cast<std::uint32_t>(std::strtoul(s, nullptr, 10)));
  } else {
    for (std::uint32_t i = 0; i < 60; ++i) seeds.push_back(1000 + i);
  }
  for (const std::uint32_t seed : seeds) {
    const Case c = make_case(seed);
    for (LaunchMode m : kModes) {
      SCOPED_TRACE("replay: SPOOL_TEST_SEED=" + std::to_string(seed) + " (" + name(c.kind) + ", " +
                   std::to_string(c.grids.size()) + " items, " + (c.seq ? "sequential" : "unordered") + ", " +
                   std::string(to_string(m)) + ")");
      EXPECT_EQ(run_case(*dev, c, m), 0u);
    }
  }
}

// ---- sequential order ----

// Twenty halvings of 2^20 values back and forth between two buffers: each
// step reads what the one before wrote, so any step run early or concurrently
// changes the sums.
TEST_F(PersistentGpu, SequentialChainRunsInOrderInEveryMode) {
  auto dev = open();
  Case c;
  c.kind = Kind::reduce_step;
  c.seq = true;
  c.grids.assign(20, 0);
  c.grids[0] = 1u << 19;
  for (LaunchMode m : kModes) EXPECT_EQ(run_case(*dev, c, m), 0u) << to_string(m);
}

// ---- watchdog ----

struct SpinRig {
  std::shared_ptr<backend::BufferImpl> gate, marks;
  std::vector<cuda::abi::SpinArgs> args;
  std::vector<PackedItem> items;
  SpinRig(backend::DeviceImpl& dev, std::uint32_t n) : args(n), items(n) {
    gate = dev.create_buffer(4, true);
    marks = dev.create_buffer(2 * n * 4, true);
    std::atomic_ref<std::uint32_t>(*static_cast<std::uint32_t*>(gate->host_ptr())).store(1);
    std::memset(marks->host_ptr(), 0, 2 * n * 4);
    for (std::uint32_t i = 0; i < n; ++i) {
      // Item 0 spins until the gate opens; the others pass at once.
      args[i] = cuda::abi::SpinArgs{reinterpret_cast<std::uint32_t*>(gate->device_address()),
                                    reinterpret_cast<std::uint32_t*>(marks->device_address()), i,
                                    i == 0 ? 0xffffffffu : 1u};
      items[i] = PackedItem{1, i, bytes(args[i])};
    }
  }
  std::uint32_t mark(std::uint32_t w) const {
    return std::atomic_ref<std::uint32_t>(static_cast<std::uint32_t*>(marks->host_ptr())[w]).load();
  }
  void open_gate() { std::atomic_ref<std::uint32_t>(*static_cast<std::uint32_t*>(gate->host_ptr())).store(0); }
};

// Waits (bounded) for `cond`; false when it did not come true in 60 s.
template <class F>
bool eventually(F cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST_F(PersistentGpu, StalledItemIsRecoveredAndTheRestRunOnceByLaunches) {
  auto dev = open({{"SPOOL_PERSISTENT_GROUPS", "1"}, {"SPOOL_WATCHDOG_MS", "300"}, {"SPOOL_GRACE_MS", "60000"}});
  SpinRig rig(*dev, 8);
  auto k = dev->load_builtin("spin", {});
  // Opens the gate once the watchdog has asked the kernel to stop: the
  // stalled item then ends, the kernel stops within the grace period, and
  // the seven unclaimed items run by launches.
  std::atomic<bool> saw_shutdown{false};
  std::thread opener([&] {
    if (eventually([&] { return rig.mark(0) == 1; }) &&
        eventually([&] { return test::cu(*dev).ring_word(SPOOL_RING_SHUTDOWN) != 0; })) {
      saw_shutdown = true;
    }
    rig.open_gate();
  });
  const ExecResult r = test::run_batch(*dev, LaunchMode::persistent, *k, rig.items, true);
  opener.join();
  EXPECT_TRUE(saw_shutdown.load());
  EXPECT_TRUE(r.watchdog_fired);
  EXPECT_EQ(r.items_run, 8u);
  EXPECT_EQ(r.items_failed, 0u) << r.failure;
  EXPECT_EQ(r.fallback_items, 7u);
  for (std::uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(rig.mark(2 * i), 1u) << "item " << i << " started";
    EXPECT_EQ(rig.mark(2 * i + 1), 1u) << "item " << i << " finished";
  }
}

TEST_F(PersistentGpu, HungKernelFailsItsItemsAndTheDeviceRecoversWhenItEnds) {
  auto dev = open({{"SPOOL_PERSISTENT_GROUPS", "1"}, {"SPOOL_WATCHDOG_MS", "200"}, {"SPOOL_GRACE_MS", "200"}});
  SpinRig rig(*dev, 4);
  auto k = dev->load_builtin("spin", {});
  const ExecResult r = test::run_batch(*dev, LaunchMode::persistent, *k, rig.items, false);
  EXPECT_TRUE(r.watchdog_fired);
  EXPECT_EQ(r.items_run, 0u);
  EXPECT_EQ(r.items_failed, 4u);
  EXPECT_NE(r.failure.find("hung"), std::string::npos) << r.failure;
  auto empty = dev->load_builtin("empty", {});
  alignas(8) std::byte z[8] = {};
  const PackedItem one{1, 0, z};
  try {
    test::run_batch(*dev, LaunchMode::launches, *empty, std::span(&one, 1));
    ADD_FAILURE() << "a hung device ran a batch";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::device_lost);
  }
  rig.open_gate();  // the stalled item ends; the kernel sees SHUTDOWN and stops
  EXPECT_TRUE(eventually([&] {
    try {
      return test::run_batch(*dev, LaunchMode::launches, *empty, std::span(&one, 1)).items_run == 1;
    } catch (const Error&) {
      return false;
    }
  }));
  EXPECT_EQ(rig.mark(0), 1u);
  for (std::uint32_t i = 1; i < 4; ++i) EXPECT_EQ(rig.mark(2 * i), 0u) << "item " << i << " ran after it failed";
  tally_exactly_once(*dev, LaunchMode::persistent, 100, 1000, false, 31);
}

// ---- memory released while the kernel is resident ----

TEST_F(PersistentGpu, BufferDroppedWhileTheKernelIsResidentIsFreedAfterItParks) {
  auto dev = open({{"SPOOL_PARK_US", "60000000"}});  // the kernel stays until parked explicitly
  auto k = dev->load_builtin("tally", {});
  auto counts = dev->create_buffer(1024 * 4, false);
  cuda::abi::TallyArgs a{reinterpret_cast<std::uint32_t*>(counts->device_address()), 0};
  const PackedItem it{1024, 0, bytes(a)};
  EXPECT_EQ(test::run_batch(*dev, LaunchMode::persistent, *k, std::span(&it, 1)).items_run, 1u);
  ASSERT_TRUE(dev->persistent_resident(*k));
  auto& frees = *test::cu(*dev).frees();
  counts.reset();  // cudaFree here would wait for the resident kernel (ten minutes)
  EXPECT_EQ(frees.deferred(), 1u);
  EXPECT_TRUE(dev->persistent_resident(*k));
  dev->park_persistent();
  EXPECT_EQ(frees.deferred(), 0u);
}

}  // namespace
