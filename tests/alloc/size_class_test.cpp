#include "spool/alloc/size_class.hpp"

#include <gtest/gtest.h>

namespace {

using spool::alloc::class_of;
using spool::alloc::class_size;
using spool::alloc::kClassCount;
using spool::alloc::kMaxPooled;

TEST(SizeClass, EverySizeFitsItsClassAndNotTheOneBelow) {
  for (std::size_t s = 1; s <= kMaxPooled; ++s) {
    const unsigned c = class_of(s);
    ASSERT_LT(c, kClassCount) << s;
    ASSERT_GE(class_size(c), s) << s;
    if (c > 0) {
      ASSERT_LT(class_size(c - 1), s) << s;
    }
  }
}

TEST(SizeClass, SizesAreIncreasingMultiplesOfSixteen) {
  for (unsigned c = 0; c < kClassCount; ++c) {
    EXPECT_EQ(class_size(c) % 16, 0u);
    if (c > 0) {
      EXPECT_GT(class_size(c), class_size(c - 1));
    }
  }
}

TEST(SizeClass, StepsAreSixteenBytesUpToOneKibThenQuarterDoublings) {
  EXPECT_EQ(class_size(1) - class_size(0), 16u);
  EXPECT_EQ(class_size(63), 1024u);
  EXPECT_EQ(class_size(64), 1280u);
  EXPECT_EQ(class_size(68), 2560u);
  // Waste above 1 KiB stays below 25 %.
  for (std::size_t s = 1025; s <= kMaxPooled; s += 7) {
    EXPECT_LT(class_size(class_of(s)) * 4, s * 5 + 64) << s;
  }
}

}  // namespace
