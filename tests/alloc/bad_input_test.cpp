// Bad input has defined behaviour: clear aborts where cheaply detectable,
// nullptr / std::bad_alloc on failure, never silent corruption.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <new>
#include <set>
#include <stdexcept>

#include "spool/alloc/alloc.hpp"
#include "spool/alloc/spool_malloc.h"
#include "spool/error.hpp"

namespace {

constexpr std::size_t kHuge = std::numeric_limits<std::size_t>::max() - 4096;

TEST(BadInput, ZeroSizeReturnsDistinctUsableBlocks) {
  void* a = spool_malloc(0);
  void* b = spool_malloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_GE(spool_malloc_usable_size(a), 16u);
  void* c = spool::alloc::allocate(0);
  EXPECT_NE(c, nullptr);
  spool_free(a);
  spool_free(b);
  spool::alloc::deallocate(c);
}

TEST(BadInput, HugeSizeReturnsNullWithEnomemFromC) {
  errno = 0;
  EXPECT_EQ(spool_malloc(kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(spool_calloc(std::size_t{1} << 33, std::size_t{1} << 33), nullptr);
  void* p = spool_malloc(10);
  EXPECT_EQ(spool_realloc(p, kHuge), nullptr);  // p stays valid
  spool_free(p);
}

TEST(BadInput, HugeSizeThrowsBadAllocFromCpp) {
  EXPECT_THROW((void)spool::alloc::allocate(kHuge), std::bad_alloc);
}

TEST(BadInput, InvalidAlignmentIsRejected) {
  errno = 0;
  EXPECT_EQ(spool_aligned_alloc(3, 64), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(spool_aligned_alloc(std::size_t{1} << 22, 64), nullptr);
  // One error hierarchy: a spool::Error saying what is wrong.
  try {
    (void)spool::alloc::allocate_aligned(64, 48);
    ADD_FAILURE() << "alignment 48 was accepted";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("alignment 48"), std::string::npos) << e.what();
  }
}

TEST(BadInput, FreeOfNullIsANoOp) {
  spool_free(nullptr);
  spool::alloc::deallocate(nullptr);
  spool::alloc::deallocate_checked(nullptr);
}

using BadInputDeathTest = ::testing::Test;

TEST_F(BadInputDeathTest, CheckedFreeOfAForeignPointerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  alignas(16) static char not_ours[64];
  void* volatile p = not_ours;
  EXPECT_DEATH(spool::alloc::deallocate_checked(p), "did not allocate");
}

TEST_F(BadInputDeathTest, CheckedFreeOfAnInteriorPointerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto* p = static_cast<char*>(spool::alloc::allocate(64));
  EXPECT_DEATH(spool::alloc::deallocate_checked(p + 16), "not the start of a block");
  auto* medium = static_cast<char*>(spool::alloc::allocate(1 << 20));
  EXPECT_DEATH(spool::alloc::deallocate_checked(medium + 4096), "not the start of a block");
  auto* big = static_cast<char*>(spool::alloc::allocate(3 << 20));
  EXPECT_DEATH(spool::alloc::deallocate_checked(big + 8), "interior pointer");
  spool::alloc::deallocate(p);
  spool::alloc::deallocate(medium);
  spool::alloc::deallocate(big);
}

#if defined(SPOOL_ALLOC_CHECKS)
TEST_F(BadInputDeathTest, DoubleFreeAbortsInCheckedBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  void* keep = spool::alloc::allocate(48);
  void* p = spool::alloc::allocate(48);
  spool::alloc::deallocate(p);
  EXPECT_DEATH(spool::alloc::deallocate(p), "double free");
  spool::alloc::deallocate(keep);
}

TEST_F(BadInputDeathTest, FreeOfAForeignPointerAbortsInCheckedBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  alignas(16) static char foreign[64];
  void* volatile p = foreign;  // opaque to the optimiser
  EXPECT_DEATH(spool::alloc::deallocate(p), "did not allocate");
}
#endif

#if defined(__SANITIZE_ADDRESS__)
TEST_F(BadInputDeathTest, UseAfterFreeOfAPooledBlockIsReportedByAsan) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  void* keep = spool::alloc::allocate(64);
  auto* p = static_cast<volatile char*>(spool::alloc::allocate(64));
  p[10] = 1;
  spool::alloc::deallocate(const_cast<char*>(p));
  EXPECT_DEATH(p[10] = 2, "use-after-poison");
  spool::alloc::deallocate(keep);
}
#endif

}  // namespace
