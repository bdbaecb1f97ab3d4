// Memory goes back to the OS: free medium blocks past the retention budget or
// older than the decay time have their pages dropped (checked with mincore),
// the idle release does the same without an allocation to trigger it, and
// large mappings are reused (calloc still zeroes them) or unmapped.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "backend.hpp"
#include "spool/alloc/alloc.hpp"
#include "spool/alloc/spool_malloc.h"
#include "spool/alloc/stats.hpp"
#include "test_util.hpp"

namespace {

namespace d = spool::alloc::detail;
using spool::alloc::Option;
using spool::alloc::test::ScopedOption;

// Resident pages of [p, p + n).
std::size_t resident_pages(const void* p, std::size_t n) {
  const std::size_t ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((n + ps - 1) / ps);
  if (mincore(const_cast<void*>(p), n, v.data()) != 0) return ~std::size_t{0};
  std::size_t r = 0;
  for (unsigned char c : v) r += c & 1U;
  return r;
}

// Allocates `count` blocks of `size` in a thread that writes them, frees
// them and exits, so every block ends in the depot. Returns the blocks.
std::vector<void*> churn_through_depot(std::size_t size, int count) {
  std::vector<void*> blocks;
  std::thread([&] {
    for (int i = 0; i < count; ++i) {
      void* p = spool::alloc::allocate(size);
      std::memset(p, 0x5A, size);
      blocks.push_back(p);
    }
    for (void* p : blocks) spool::alloc::deallocate(p);
  }).join();
  return blocks;
}

TEST(Release, MediumBlocksPastTheRetentionBudgetLoseTheirPages) {
  ScopedOption budget(Option::retain_kib, 1024);  // 1 MiB of free medium blocks stay resident
  ScopedOption decay(Option::decay_ms, 1'000'000);
  constexpr std::size_t kSize = 256 * 1024;
  const unsigned cls = spool::alloc::class_of(kSize);
  const auto before = d::backend_class_counters(cls).released_blocks;
  const std::vector<void*> blocks = churn_through_depot(kSize, 32);  // 8 MiB
  EXPECT_GE(d::backend_class_counters(cls).released_blocks - before, 24u);
  EXPECT_LE(spool::alloc::stats().retained_free_bytes, 1024u * 1024);
  // At most budget / block size blocks (plus first pages) are still resident.
  std::size_t resident = 0;
  for (void* p : blocks) resident += resident_pages(p, kSize);
  const std::size_t ps = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_LE(resident, (1024 * 1024) / ps + blocks.size());
  // Released blocks are ordinary free blocks again.
  std::vector<void*> again;
  for (int i = 0; i < 32; ++i) {
    auto* p = static_cast<unsigned char*>(spool::alloc::allocate(kSize));
    std::memset(p, 1, kSize);
    again.push_back(p);
  }
  for (void* p : again) spool::alloc::deallocate(p);
}

TEST(Release, IdleReleaseDropsEveryDecayedMediumBlockWithoutAnAllocation) {
  ScopedOption budget(Option::retain_kib, 1 << 20);  // budget never reached
  ScopedOption decay(Option::decay_ms, 1'000'000);
  constexpr std::size_t kSize = 128 * 1024;
  const std::vector<void*> blocks = churn_through_depot(kSize, 16);
  std::size_t resident = 0;
  for (void* p : blocks) resident += resident_pages(p, kSize);
  EXPECT_GE(resident, 16u * 31);  // all written, none released yet
  {
    ScopedOption now(Option::decay_ms, 0);  // everything has decayed
    d::backend_idle_release();
  }
  resident = 0;
  for (void* p : blocks) resident += resident_pages(p, kSize);
  EXPECT_LE(resident, blocks.size());  // only each block's first page (the chain link)
  EXPECT_EQ(spool::alloc::stats().retained_free_bytes, 0u);
}

TEST(Release, LargeMappingsAreReusedAndCallocStillZeroesThem) {
  ScopedOption budget(Option::retain_kib, 64 * 1024);
  ScopedOption decay(Option::decay_ms, 1'000'000);
  constexpr std::size_t kSize = 3 << 20;
  auto* a = static_cast<unsigned char*>(spool_malloc(kSize));
  std::memset(a, 0xEE, kSize);
  EXPECT_FALSE(d::large_recycled(a));
  spool_free(a);
  EXPECT_TRUE(d::segment_registered(a));  // kept for reuse
  auto* b = static_cast<unsigned char*>(spool_calloc(1, kSize));
  EXPECT_EQ(b, a);
  EXPECT_TRUE(d::large_recycled(b));
  for (std::size_t i = 0; i < kSize; i += 4093) ASSERT_EQ(b[i], 0) << i;
  spool_free(b);
  d::large_cache_trim(0);
  EXPECT_FALSE(d::segment_registered(a));  // unmapped
}

TEST(Release, LargeMappingsBeyondTheBudgetGoStraightBack) {
  ScopedOption budget(Option::retain_kib, 1024);
  void* a = spool_malloc(4 << 20);
  spool_free(a);
  EXPECT_FALSE(d::segment_registered(a));
}

}  // namespace
