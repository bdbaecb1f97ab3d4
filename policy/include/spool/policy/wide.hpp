// Exact widened arithmetic shared by the policies. Every cost the policies
// compute is held in 128 bits: a batch of at most 2^32 items times a sum of two
// 64-bit costs is below 2^97, so nothing here can overflow, and nothing
// saturates (a saturated cost would hide a corrupt measurement).
#pragma once

#include <cstddef>
#include <cstdint>

namespace spool::policy {

__extension__ typedef unsigned __int128 u128;  // __extension__: GNU type under -Wpedantic

inline constexpr std::uint64_t kBasisPointsPerUnit = 10'000;

// floor(part * 10000 / whole); whole == 0 yields 0 (callers gate on it first).
[[nodiscard]] constexpr u128 ratio_basis_points(u128 part, u128 whole) noexcept {
  if (whole == 0) return 0;
  // part * 10000 can exceed 128 bits only when part > 2^114; split the
  // quotient so the result stays exact for every 128-bit input.
  const u128 q = part / whole;
  const u128 r = part % whole;
  // r < whole, and r * 10000 fits as long as whole < 2^114; above that, scale
  // both down (error < 1 bp only for costs beyond 2^114 ns, i.e. never real).
  if (whole < (u128{1} << 114)) {
    return q * kBasisPointsPerUnit + (r * kBasisPointsPerUnit) / whole;
  }
  return q * kBasisPointsPerUnit + (r >> 14) * kBasisPointsPerUnit / (whole >> 14);
}

// Writes the decimal digits of v into buf (no allocation); returns the length.
// buf must hold at least 40 characters.
std::size_t format_u128(u128 v, char* buf) noexcept;

}  // namespace spool::policy
