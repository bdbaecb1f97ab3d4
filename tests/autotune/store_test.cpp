#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "spool/autotune/store.hpp"
#include "test_util.hpp"

namespace {

using namespace spool::autotune;
using spool::autotune::test::lavapipe;
using spool::autotune::test::saxpy;
using spool::autotune::test::TempDir;

LaunchProfileRecord sample_profile() {
  LaunchProfileRecord r;
  r.launch_ns = 35'000.5;
  r.record_setup_ns = 20'000;
  r.replay_ns = 7'000.25;
  r.persistent_setup_ns = 200'000;
  r.queue_item_ns = 700.125;
  r.samples = 42;
  r.measured_at_unix = 1'700'000'000;
  return r;
}

void expect_same(const LaunchProfileRecord& a, const LaunchProfileRecord& b) {
  EXPECT_EQ(a.launch_ns, b.launch_ns);
  EXPECT_EQ(a.record_setup_ns, b.record_setup_ns);
  EXPECT_EQ(a.replay_ns, b.replay_ns);
  EXPECT_EQ(a.persistent_setup_ns, b.persistent_setup_ns);
  EXPECT_EQ(a.queue_item_ns, b.queue_item_ns);
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.measured_at_unix, b.measured_at_unix);
}

// Fills a store with one of everything; checks it all reads back.
void fill(Store& s) {
  const ShapeBucket b = bucket_for(1000, 16);
  s.save_profile(lavapipe(), sample_profile());
  s.add_observation(lavapipe(), saxpy(), b, "wg=64", 10);
  s.add_observation(lavapipe(), saxpy(), b, "wg=64", 14);
  s.add_observation(lavapipe(), saxpy(), b, "wg=256,body=alt", 8);
  s.set_winner(lavapipe(), saxpy(), b, "wg=256,body=alt");
  s.reject(lavapipe(), saxpy(), b, "wg=32");
}

void check_filled(Store& s) {
  const ShapeBucket b = bucket_for(1000, 16);
  const auto p = s.load_profile(lavapipe());
  ASSERT_TRUE(p.has_value());
  expect_same(*p, sample_profile());
  const auto o = s.observation(lavapipe(), saxpy(), b, "wg=64");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->count, 2u);
  EXPECT_DOUBLE_EQ(o->mean_ns, 12);
  EXPECT_DOUBLE_EQ(o->variance(), 8);
  EXPECT_EQ(s.winner(lavapipe(), saxpy(), b), "wg=256,body=alt");
  EXPECT_TRUE(s.is_rejected(lavapipe(), saxpy(), b, "wg=32"));
  EXPECT_FALSE(s.is_rejected(lavapipe(), saxpy(), b, "wg=64"));
}

TEST(Store, RoundTripsEveryTableWhenInMemory) {
  auto s = Store::open(":memory:");
  EXPECT_TRUE(s->in_memory());
  EXPECT_EQ(s->path(), ":memory:");
  EXPECT_EQ(s->schema_version(), Store::kSchemaVersion);
  fill(*s);
  check_filled(*s);
}

TEST(Store, KeepsEverythingWhenReopenedFromFile) {
  TempDir dir;
  const std::string path = dir.file("nested/dir/autotune.sqlite");  // parents are created
  {
    std::string warning;
    auto s = Store::open(path, &warning);
    EXPECT_TRUE(warning.empty()) << warning;
    EXPECT_FALSE(s->in_memory());
    EXPECT_EQ(s->path(), path);
    fill(*s);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto s = Store::open(path);
  check_filled(*s);
}

TEST(Store, ReturnsNothingWhenKeyUnknown) {
  auto s = Store::open(":memory:");
  fill(*s);
  const ShapeBucket other = bucket_for(1 << 20, 16);
  EXPECT_FALSE(s->observation(lavapipe(), saxpy(), other, "wg=64").has_value());
  EXPECT_FALSE(s->winner(lavapipe(), saxpy(), other).has_value());
  EXPECT_FALSE(s->observation(lavapipe(), KernelKey{"gemv", "sha256:aaaa"}, bucket_for(1000, 16),
                              "wg=64").has_value());
  DeviceKey cuda = lavapipe();
  cuda.backend = "cuda";
  EXPECT_FALSE(s->load_profile(cuda).has_value());
}

TEST(Store, ComputesWelfordStatisticsWhenObservationsAdded) {
  auto s = Store::open(":memory:");
  const std::vector<double> xs{3, 1, 4, 1, 5, 9, 2, 6};
  Observation last;
  for (double x : xs) last = s->add_observation(lavapipe(), saxpy(), {}, "wg=64", x);
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= static_cast<double>(xs.size());
  double ss = 0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  EXPECT_EQ(last.count, xs.size());
  EXPECT_DOUBLE_EQ(last.mean_ns, mean);
  EXPECT_NEAR(last.variance(), ss / static_cast<double>(xs.size() - 1), 1e-12);
  const auto stored = s->observation(lavapipe(), saxpy(), {}, "wg=64");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->count, last.count);
  EXPECT_EQ(stored->m2, last.m2);
}

TEST(Store, ThrowsInvalidArgumentWhenObservationNotFinite) {
  auto s = Store::open(":memory:");
  EXPECT_THROW(s->add_observation(lavapipe(), saxpy(), {}, "wg=64", std::nan("")),
               spool::autotune::Error);
  EXPECT_THROW(s->add_observation(lavapipe(), saxpy(), {}, "wg=64", -1.0), spool::autotune::Error);
  EXPECT_FALSE(s->observation(lavapipe(), saxpy(), {}, "wg=64").has_value());
}

TEST(Store, LatestDecisionWinsWhenWinnerRejectedOrRejectedVariantWins) {
  auto s = Store::open(":memory:");
  const ShapeBucket b{};
  EXPECT_EQ(s->variant_state(lavapipe(), saxpy(), b, "wg=64"), VariantState::candidate);
  s->add_observation(lavapipe(), saxpy(), b, "wg=64", 1);
  EXPECT_EQ(s->variant_state(lavapipe(), saxpy(), b, "wg=64"), VariantState::racing);
  s->set_winner(lavapipe(), saxpy(), b, "wg=64");
  EXPECT_EQ(s->variant_state(lavapipe(), saxpy(), b, "wg=64"), VariantState::winner);
  s->reject(lavapipe(), saxpy(), b, "wg=64");
  EXPECT_EQ(s->variant_state(lavapipe(), saxpy(), b, "wg=64"), VariantState::rejected);
  EXPECT_FALSE(s->winner(lavapipe(), saxpy(), b).has_value());
  s->set_winner(lavapipe(), saxpy(), b, "wg=64");
  EXPECT_FALSE(s->is_rejected(lavapipe(), saxpy(), b, "wg=64"));
  EXPECT_EQ(s->winner(lavapipe(), saxpy(), b), "wg=64");
}

TEST(Store, ReplacesWinnerWhenAnotherVariantWins) {
  auto s = Store::open(":memory:");
  s->set_winner(lavapipe(), saxpy(), {}, "wg=64");
  s->set_winner(lavapipe(), saxpy(), {}, "wg=128");
  EXPECT_EQ(s->winner(lavapipe(), saxpy(), {}), "wg=128");
  EXPECT_EQ(s->list_winners().size(), 1u);
}

TEST(Store, IsEmptyWhenCleared) {
  auto s = Store::open(":memory:");
  fill(*s);
  s->clear();
  EXPECT_TRUE(s->list_profiles().empty());
  EXPECT_TRUE(s->list_observations().empty());
  EXPECT_TRUE(s->list_winners().empty());
  EXPECT_TRUE(s->list_rejections().empty());
  EXPECT_EQ(s->schema_version(), Store::kSchemaVersion);
}

TEST(Store, ListsOnlyTheKernelAskedForWhenFiltered) {
  auto s = Store::open(":memory:");
  fill(*s);
  s->add_observation(lavapipe(), KernelKey{"gemv", "h"}, {}, "wg=64", 1);
  EXPECT_EQ(s->list_observations().size(), 3u);
  EXPECT_EQ(s->list_observations("saxpy").size(), 2u);
  ASSERT_EQ(s->list_observations("gemv").size(), 1u);
  EXPECT_EQ(s->list_observations("gemv")[0].kernel.source_hash, "h");
  EXPECT_TRUE(s->list_observations("nope").empty());
}

TEST(Store, CountsEveryObservationWhenThreadsAddConcurrently) {
  auto s = Store::open(":memory:");
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s, t] {
      for (int i = 0; i < kEach; ++i) {
        s->add_observation(lavapipe(), saxpy(), {}, "wg=64", static_cast<double>(i));
        s->add_observation(lavapipe(), saxpy(), {}, "wg=" + std::to_string(t), 1.0);
        static_cast<void>(s->winner(lavapipe(), saxpy(), {}));
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto o = s->observation(lavapipe(), saxpy(), {}, "wg=64");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->count, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_NEAR(o->mean_ns, (kEach - 1) / 2.0, 1e-9);  // interleaving changes the rounding
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(s->observation(lavapipe(), saxpy(), {}, "wg=" + std::to_string(t))->count,
              static_cast<std::uint64_t>(kEach));
  }
}

TEST(Store, UsesWalModeWhenBackedByAFile) {
  TempDir dir;
  const std::string path = dir.file("wal.sqlite");
  auto s = Store::open(path);
  s->add_observation(lavapipe(), saxpy(), {}, "wg=64", 1);
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
}

TEST(Store, ThrowsErrorNamingThePathWhenDirectoryCannotBeCreated) {
  TempDir dir;
  spool::autotune::test::write_bytes(dir.file("file"), "x");
  try {
    Store::open(dir.file("file/sub/store.sqlite"));
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("file/sub/store.sqlite")), std::string::npos)
        << e.what();
  }
}

}  // namespace
