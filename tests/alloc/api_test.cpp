#include "spool/alloc/alloc.hpp"

#include <gtest/gtest.h>

TEST(Api, AllocatesAndFrees) {
  void* p = spool::alloc::allocate(48);
  ASSERT_NE(p, nullptr);
  spool::alloc::deallocate(p);
}
