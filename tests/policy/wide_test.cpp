#include "spool/policy/wide.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using spool::policy::format_u128;
using spool::policy::ratio_basis_points;
using spool::policy::u128;

TEST(Wide, RatioBasisPointsFloorsExactly) {
  EXPECT_EQ(ratio_basis_points(1, 3), 3333u);
  EXPECT_EQ(ratio_basis_points(15, 100), 1500u);
  EXPECT_EQ(ratio_basis_points(0, 7), 0u);
  EXPECT_EQ(ratio_basis_points(7, 0), 0u);
}

TEST(Wide, RatioBasisPointsHandlesValuesBeyondSixtyFourBits) {
  const u128 whole = (u128{1} << 100) + 12345;
  EXPECT_EQ(ratio_basis_points(whole / 2, whole), 4999u);  // floor just below 5000
  EXPECT_EQ(ratio_basis_points(whole, whole), 10000u);
}

TEST(Wide, FormatsZeroAndMaximum) {
  char buf[48];
  format_u128(0, buf);
  EXPECT_EQ(std::string(buf), "0");
  format_u128(~u128{0}, buf);
  EXPECT_EQ(std::string(buf), "340282366920938463463374607431768211455");
}

}  // namespace
