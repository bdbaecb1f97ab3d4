// The C++ API, the std::allocator adaptor, the C API and diagnostics.
#include "spool/alloc/alloc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "spool/alloc/options.hpp"
#include "spool/alloc/pool_allocator.hpp"
#include "spool/alloc/spool_malloc.h"
#include "spool/alloc/stats.hpp"
#include "test_util.hpp"

namespace {

TEST(Api, AllocatesWritableBlocksOfEverySize) {
  for (std::size_t n : {1u, 15u, 16u, 1000u, 4096u, 65536u, 65537u, 3u << 20}) {
    auto* p = static_cast<unsigned char*>(spool::alloc::allocate(n));
    std::memset(p, 0xAB, n);
    EXPECT_GE(spool::alloc::usable_size(p), n);
    spool::alloc::deallocate(p);
  }
}

TEST(Api, AlignedAllocationHonoursEveryPowerOfTwoUpToOneMib) {
  for (std::size_t a = 1; a <= (std::size_t{1} << 20); a <<= 1) {
    for (std::size_t n : {1u, 100u, 5000u, 70000u}) {
      void* p = spool::alloc::allocate_aligned(n, a);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % a, 0u) << n << " @ " << a;
      EXPECT_GE(spool::alloc::usable_size(p), n);
      std::memset(p, 1, n);
      spool::alloc::deallocate(p);
      void* q = spool_aligned_alloc(a, n);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q) % a, 0u);
      spool_free(q);
    }
  }
}

TEST(Api, PoolAllocatorWorksWithStandardContainers) {
  std::vector<int, spool::alloc::PoolAllocator<int>> v;
  for (int i = 0; i < 100000; ++i) v.push_back(i);
  EXPECT_EQ(v[99999], 99999);
  std::map<int, std::string, std::less<>,
           spool::alloc::PoolAllocator<std::pair<const int, std::string>>>
      m;
  for (int i = 0; i < 1000; ++i) m[i] = std::to_string(i);
  EXPECT_EQ(m[500], "500");
  struct alignas(64) Wide {
    char c[64];
  };
  std::vector<Wide, spool::alloc::PoolAllocator<Wide>> w(10);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(w.data()) % 64, 0u);
}

TEST(Api, CallocZeroesAndReallocPreservesContents) {
  auto* z = static_cast<unsigned char*>(spool_calloc(100, 10));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(z[i], 0);
  std::memset(z, 7, 1000);
  spool_free(z);
  z = static_cast<unsigned char*>(spool_calloc(100, 10));  // likely the same block again
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(z[i], 0);
  spool_free(z);

  auto* p = static_cast<unsigned char*>(spool_malloc(10));
  for (int i = 0; i < 10; ++i) p[i] = static_cast<unsigned char>(i);
  p = static_cast<unsigned char*>(spool_realloc(p, 5000));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p[i], i);
  p = static_cast<unsigned char*>(spool_realloc(p, 200000));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p[i], i);
  p = static_cast<unsigned char*>(spool_realloc(p, 3));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p[i], i);
  spool_free(p);
  void* fresh = spool_realloc(nullptr, 40);
  EXPECT_NE(fresh, nullptr);
  spool_free(fresh);
}

TEST(Api, StatsCountMissesRefillsAndRetainedBytes) {
  void* p = spool::alloc::allocate(24);
  const auto s = spool::alloc::stats();
  const auto& c = s.classes[spool::alloc::class_of(24)];
  EXPECT_GE(c.misses, 1u);
  EXPECT_GE(c.refills, 1u);
  EXPECT_GE(c.bytes_retained, 32u);
  EXPECT_GT(c.refill_count, 0u);
  EXPECT_GE(s.segments, 1u);
  const std::string r = spool::alloc::report();
  EXPECT_NE(r.find("learner:"), std::string::npos);
  EXPECT_NE(r.find("refills"), std::string::npos);
  spool::alloc::deallocate(p);
}

TEST(Api, HitsAreCountedWhenStatsAreCompiledIn) {
#if defined(SPOOL_ALLOC_TEST_EXPECT_STATS)
  ASSERT_TRUE(spool::alloc::stats().hits_tracked) << "alloc_stats_tests must build with SPOOL_ALLOC_STATS";
#else
  if (!spool::alloc::stats().hits_tracked) GTEST_SKIP() << "built without SPOOL_ALLOC_STATS (see stats.Api.*)";
#endif
  void* a = spool::alloc::allocate(24);
  void* b = spool::alloc::allocate(24);
  const auto before = spool::alloc::stats().classes[1].hits;
  spool::alloc::deallocate(b);
  b = spool::alloc::allocate(24);
  EXPECT_EQ(spool::alloc::stats().classes[1].hits, before + 1);
  spool::alloc::deallocate(a);
  spool::alloc::deallocate(b);
  // A thread's hits survive its exit (merged into the totals of exited threads).
  const auto before_thread = spool::alloc::stats().classes[1].hits;
  std::thread([] {
    void* first = spool::alloc::allocate(24);  // refill: a miss
    spool::alloc::deallocate(first);
    for (int i = 0; i < 10; ++i) spool::alloc::deallocate(spool::alloc::allocate(24));  // 10 hits
  }).join();
  EXPECT_EQ(spool::alloc::stats().classes[1].hits, before_thread + 10);
}

TEST(Api, OptionsComeFromOneTableOfEnvironmentVariables) {
  EXPECT_STREQ(spool::alloc::option_name(spool::alloc::Option::learner), "SPOOL_ALLOC_LEARNER");
  EXPECT_STREQ(spool::alloc::option_name(spool::alloc::Option::refill), "SPOOL_ALLOC_REFILL");
  const long before = spool::alloc::option(spool::alloc::Option::cache_kib);
  {
    spool::alloc::test::ScopedOption cache(spool::alloc::Option::cache_kib, 64);
    EXPECT_EQ(spool::alloc::option(spool::alloc::Option::cache_kib), 64);
  }
  EXPECT_EQ(spool::alloc::option(spool::alloc::Option::cache_kib), before);
}

}  // namespace
