// Differential test of the launch modes on the default Vulkan device: many
// random batches (kernel, grid 1 .. 600 000, item count, ordering, forced
// mode or automatic choice) on devices configured with random persistent
// workgroups (1 .. 8), queue slots (2 .. 4096) and a tiny park time, each
// batch checked element by element against a CPU reference. A failing case
// prints its seed; SPOOL_DIFF_SEED=<seed> replays that one case on a fresh
// device, SPOOL_DIFF_CONFIG=<n> runs configuration n (seed >> 20, less
// 0x5eed0000) from its start.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "vk_test_util.hpp"

namespace {

using spool::LaunchMode;
using spool::test::Env;
using spool::test::open_device;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kConfigs = 3, kBatchesPerConfig = 40;
constexpr std::uint32_t kResidentItems = 100'000;
constexpr int kOrderChains = 40;
#else
constexpr int kConfigs = 10, kBatchesPerConfig = 200;
constexpr std::uint32_t kResidentItems = 1'000'000;
constexpr int kOrderChains = 400;
#endif

struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t seed) : g(seed) {}
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(g() % n); }
  bool chance(std::uint32_t one_in) { return below(one_in) == 0; }
  // Mostly small grids, sometimes large, rarely huge (split into chunks).
  std::uint32_t grid() {
    const std::uint32_t r = below(100);
    if (r < 70) return 1 + below(64);
    if (r < 95) return 1 + below(4096);
    if (r < 99) return 1 + below(100'000);
    return 100'000 + below(500'001);
  }
};

std::string describe(std::uint64_t seed, const char* kernel, std::optional<LaunchMode> mode, bool seq,
                     std::uint32_t items, const spool::Verdict& v) {
  std::ostringstream s;
  s << "seed " << seed << " (replay: SPOOL_DIFF_SEED=" << seed << "): " << kernel << ", "
    << (mode ? std::string(spool::policy::to_string(*mode)) : std::string("auto")) << ", "
    << (seq ? "sequential" : "independent") << ", " << items << " items; ran as "
    << spool::policy::to_string(v.mode) << (v.persistent_was_resident ? " (resident)" : "")
    << (v.watchdog_fired ? ", watchdog fired" : "") << ", " << v.fallback_items << " items by fallback";
  return s.str();
}

// The CPU reference of `steps` Jacobi steps of stencil_step (alpha 0.25,
// fixed ends), in place.
void stencil_reference(std::vector<float>& ref, std::uint32_t steps) {
  std::vector<float> tmp(ref.size());
  const std::size_t cells = ref.size();
  for (std::uint32_t s = 0; s < steps; ++s) {
    for (std::size_t i = 0; i < cells; ++i) {
      tmp[i] = (i == 0 || i + 1 == cells) ? ref[i] : ref[i] + 0.25f * (ref[i - 1] - 2.0f * ref[i] + ref[i + 1]);
    }
    ref.swap(tmp);
  }
}

// tally: disjoint ranges, every counter exactly once.
void tally_case(spool::Device& dev, Rng& r, std::uint64_t seed, std::optional<LaunchMode> mode) {
  auto k = dev.kernel("tally");
  const std::uint32_t n = 1 + r.below(r.chance(4) ? 3000 : 40);
  const bool seq = r.chance(2);
  std::vector<std::uint32_t> grids(n);
  std::uint64_t total = 0;
  for (auto& g : grids) {
    g = r.grid();
    if (total + g > 2'000'000) g = 1;
    total += g;
  }
  auto counts = dev.buffer(total * 4 + 4);
  spool::Batch b(k, seq ? spool::Ordering::sequential : spool::Ordering::independent);
  std::uint32_t at = 0;
  for (std::uint32_t g : grids) {
    b.add(g, {spool::arg(counts), spool::arg(at)});
    at += g;
  }
  spool::SubmitOptions o;
  o.force_mode = mode;
  const auto v = dev.run(std::move(b), o);
  const std::string what = describe(seed, "tally", mode, seq, n, v);
  ASSERT_TRUE(v.ok()) << what << ": " << v.failure;
  const auto c = counts.as<std::uint32_t>();
  std::uint64_t wrong = 0, first = ~0ull;
  for (std::uint64_t i = 0; i <= total; ++i) {
    const std::uint32_t want = i < total ? 1u : 0u;
    if (c[i] != want) {
      ++wrong;
      first = std::min(first, i);
    }
  }
  ASSERT_EQ(wrong, 0u) << what << ": first wrong counter " << first;
}

// saxpy: independent items on disjoint slices, or a sequential chain on one
// vector (y += a x, exact in floats for small integers).
void saxpy_case(spool::Device& dev, Rng& r, std::uint64_t seed, std::optional<LaunchMode> mode) {
  auto k = dev.kernel("saxpy");
  const bool seq = r.chance(2);
  const std::uint32_t n = 1 + r.below(seq ? 400 : 60);
  const std::uint32_t len = seq ? std::min<std::uint32_t>(r.grid(), 200'000) : 0;
  std::vector<std::uint32_t> lens(n, len);
  std::uint64_t total = seq ? len : 0;
  if (!seq) {
    for (auto& l : lens) {
      l = r.grid();
      if (total + l > 2'000'000) l = 1;
      total += l;
    }
  }
  auto x = dev.buffer(total * 4), y = dev.buffer(total * 4);
  std::vector<float> ref(total);
  for (std::uint64_t i = 0; i < total; ++i) {
    x.as<float>()[i] = float(i % 5);
    y.as<float>()[i] = ref[i] = float(i % 3);
  }
  spool::Batch b(k, seq ? spool::Ordering::sequential : spool::Ordering::independent);
  std::uint64_t at = 0;
  for (std::uint32_t it = 0; it < n; ++it) {
    const float a = float(1 + it % 4);
    const std::uint64_t off = seq ? 0 : at;
    // A grid larger than the vector: the body checks i < n.
    const std::uint32_t grid = lens[it] + (r.chance(8) ? r.below(100) : 0);
    b.add(grid, {spool::arg(x, off * 4), spool::arg(y, off * 4), spool::arg(a), spool::arg(lens[it])});
    for (std::uint64_t i = 0; i < lens[it]; ++i) ref[off + i] = a * float((off + i) % 5) + ref[off + i];
    at += lens[it];
  }
  spool::SubmitOptions o;
  o.force_mode = mode;
  const auto v = dev.run(std::move(b), o);
  const std::string what = describe(seed, "saxpy", mode, seq, n, v);
  ASSERT_TRUE(v.ok()) << what << ": " << v.failure;
  std::uint64_t wrong = 0, first = ~0ull;
  for (std::uint64_t i = 0; i < total; ++i) {
    if (y.as<float>()[i] != ref[i]) {
      ++wrong;
      first = std::min(first, i);
    }
  }
  ASSERT_EQ(wrong, 0u) << what << ": first wrong element " << first;
}

// stencil: a sequential chain of Jacobi steps between two buffers (each
// step reads what the previous one wrote).
void stencil_case(spool::Device& dev, Rng& r, std::uint64_t seed, std::optional<LaunchMode> mode) {
  auto k = dev.kernel("stencil_step");
  const std::uint32_t cells = 3 + std::min<std::uint32_t>(r.grid(), 50'000);
  const std::uint32_t steps = 1 + r.below(60);
  auto a = dev.buffer(cells * 4), b = dev.buffer(cells * 4);
  std::vector<float> ref(cells);
  for (std::uint32_t i = 0; i < cells; ++i) a.as<float>()[i] = ref[i] = float((i * 37) % 11);
  spool::Batch chain(k, spool::Ordering::sequential);
  for (std::uint32_t s = 0; s < steps; ++s) {
    chain.add(cells, {spool::arg(s % 2 ? b : a), spool::arg(s % 2 ? a : b), spool::arg(0.25f), spool::arg(cells)});
  }
  spool::SubmitOptions o;
  o.force_mode = mode;
  const auto v = dev.run(std::move(chain), o);
  const std::string what = describe(seed, "stencil_step", mode, true, steps, v);
  ASSERT_TRUE(v.ok()) << what << ": " << v.failure;
  stencil_reference(ref, steps);
  const auto out = (steps % 2 ? b : a).as<float>();
  for (std::uint32_t i = 0; i < cells; ++i) {
    ASSERT_NEAR(out[i], ref[i], 1e-4f * (1.0f + std::fabs(ref[i]))) << what << ": cell " << i;
  }
}

void run_case(spool::Device& dev, std::uint64_t seed) {
  Rng r(seed);
  const std::uint32_t m = r.below(5);  // persistent twice as often: it is the mode under test
  const std::optional<LaunchMode> mode =
      m == 0 ? std::optional<LaunchMode>() : m == 1 ? LaunchMode::launches : m == 2 ? LaunchMode::recorded
                                                                                  : LaunchMode::persistent;
  switch (r.below(3)) {
    case 0: tally_case(dev, r, seed, mode); break;
    case 1: saxpy_case(dev, r, seed, mode); break;
    default: stencil_case(dev, r, seed, mode); break;
  }
}

struct Config {
  std::uint32_t groups, slots, park_us;
};

Config config_for(std::uint64_t seed) {
  Rng r(seed);
  return Config{1 + r.below(8), 1u << (1 + r.below(12)), r.chance(2) ? 20 + r.below(200) : 2000};
}

TEST(VulkanDifferential, RandomBatchesMatchTheCpuInEveryModeAndConfiguration) {
  if (const char* replay = std::getenv("SPOOL_DIFF_SEED")) {
    const std::uint64_t seed = std::strtoull(replay, nullptr, 10);
    const Config c = config_for(seed >> 20);
    Env env({{"SPOOL_PERSISTENT_GROUPS", std::to_string(c.groups)},
             {"SPOOL_QUEUE_SLOTS", std::to_string(c.slots)},
             {"SPOOL_PARK_US", std::to_string(c.park_us)}});
    auto dev = open_device(true);
    REQUIRE_DEVICE(dev);
    run_case(*dev, seed);
    return;
  }
  // SPOOL_DIFF_CONFIG=<n>: only configuration n, from its first batch (a
  // failure that needs the device's history: a seed replay starts afresh).
  const char* only = std::getenv("SPOOL_DIFF_CONFIG");
  for (int ci = 0; ci < kConfigs; ++ci) {
    if (only != nullptr && std::atoi(only) != ci) continue;
    const std::uint64_t config_seed = 0x5eed0000u + static_cast<std::uint64_t>(ci);
    const Config c = config_for(config_seed);
    Env env({{"SPOOL_PERSISTENT_GROUPS", std::to_string(c.groups)},
             {"SPOOL_QUEUE_SLOTS", std::to_string(c.slots)},
             {"SPOOL_PARK_US", std::to_string(c.park_us)}});
    auto dev = open_device(/*calibrate=*/ci == 0);
    REQUIRE_DEVICE(dev);
    SCOPED_TRACE("groups " + std::to_string(c.groups) + ", slots " + std::to_string(c.slots) + ", park " +
                 std::to_string(c.park_us) + " us");
    for (int bi = 0; bi < kBatchesPerConfig; ++bi) {
      run_case(*dev, (config_seed << 20) | static_cast<std::uint64_t>(bi));
      if (HasFatalFailure()) return;
    }
  }
}

// Sequential chains of chunked stencil steps, one after another on a
// resident kernel with several workgroups: the first chunk of each step is
// gated on every earlier slot. A leader that read HEAD before the host had
// reclaimed past it once scanned beyond its gate, took unpublished slots
// (their older occupants' tags) for done, and later opened a gate early: a
// step ran beside the one before it (a wrong cell now and then, ok() true).
TEST(VulkanDifferential, ChunkedSequentialChainsOnAResidentKernelKeepTheirOrder) {
  Env env({{"SPOOL_PERSISTENT_GROUPS", "6"}, {"SPOOL_QUEUE_SLOTS", "64"}, {"SPOOL_PARK_US", "2000"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("stencil_step");
  Rng r(0xc4a1);
  for (int chain = 0; chain < kOrderChains; ++chain) {
    const std::uint32_t cells = 2000 + r.below(20000);  // several chunks per step
    constexpr std::uint32_t kSteps = 44;
    auto a = dev->buffer(cells * 4), b = dev->buffer(cells * 4);
    std::vector<float> ref(cells);
    for (std::uint32_t i = 0; i < cells; ++i) a.as<float>()[i] = ref[i] = float((i * 37) % 11);
    spool::Batch steps(k, spool::Ordering::sequential);
    for (std::uint32_t s = 0; s < kSteps; ++s) {
      steps.add(cells, {spool::arg(s % 2 ? b : a), spool::arg(s % 2 ? a : b), spool::arg(0.25f), spool::arg(cells)});
    }
    const auto v = dev->run(std::move(steps), spool::test::forced(LaunchMode::persistent));
    ASSERT_TRUE(v.ok()) << "chain " << chain << ": " << v.failure;
    stencil_reference(ref, kSteps);
    const auto out = (kSteps % 2 ? b : a).as<float>();
    for (std::uint32_t i = 0; i < cells; ++i) {
      ASSERT_NEAR(out[i], ref[i], 1e-4f * (1.0f + std::fabs(ref[i])))
          << "chain " << chain << " of " << cells << " cells" << (v.persistent_was_resident ? ", resident" : "")
          << ": cell " << i;
    }
  }
}

// One persistent session serving a million items, batch after batch, with
// the kernel resident throughout (the loop budget makes it retire and resume
// on llvmpipe): every counter exactly once.
TEST(VulkanDifferential, PersistentSessionServesAMillionItemsExactlyOnce) {
  Env env({{"SPOOL_PARK_US", "1000000"}});
  auto dev = open_device();
  REQUIRE_DEVICE(dev);
  auto k = dev->kernel("tally");
  auto counts = dev->buffer(std::uint64_t{kResidentItems} * 4);
  constexpr std::uint32_t kBatch = 50'000;
  std::vector<spool::Submission> subs;
  for (std::uint32_t at = 0; at < kResidentItems; at += kBatch) {
    spool::Batch b(k);
    b.reserve(kBatch);
    for (std::uint32_t i = at; i < at + kBatch && i < kResidentItems; ++i) b.add(1, {spool::arg(counts), spool::arg(i)});
    subs.push_back(dev->submit(std::move(b), spool::test::forced(LaunchMode::persistent)));
  }
  std::uint32_t failed = 0;
  for (auto& s : subs) failed += s.wait().items_failed;
  EXPECT_EQ(failed, 0u);
  std::uint32_t wrong = 0;
  for (std::uint32_t i = 0; i < kResidentItems; ++i) wrong += counts.as<std::uint32_t>()[i] != 1;
  EXPECT_EQ(wrong, 0u);
}

}  // namespace

