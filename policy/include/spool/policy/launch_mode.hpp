// Launch-mode choice: N ordinary launches, one recorded replay, or one
// persistent kernel polling a device work queue. Pure: structs in, verdict out.
//
// Cost model per batch of n items with per-item kernel time k (all ns):
//   launches    n * (L + k)
//   recorded    R + n * (r + k)
//   persistent  P * [not resident] + n * (p + k)
// L, R, r, P, p come from the device's measured launch profile.
//
// Rules:
//  * n <= 1 -> launches (nothing to amortise; the seed policy's rule).
//  * L missing or zero -> launches (no model to amortise against).
//  * a mode whose measurements are missing is unavailable and never chosen.
//  * the cheapest available mode wins; ties go to the simpler mode
//    (launches < recorded < persistent).
// All arithmetic is exact in 128 bits; see wide.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "spool/policy/wide.hpp"

namespace spool::policy {

enum class LaunchMode : std::uint8_t { launches = 0, recorded = 1, persistent = 2 };
inline constexpr std::size_t kLaunchModeCount = 3;

// One mode's measured overheads. `measured == false` means "missing".
struct ModeOverhead {
  bool measured = false;
  std::uint64_t setup_ns = 0;     // R for recorded, P for persistent (unused for launches)
  std::uint64_t per_item_ns = 0;  // L, r or p
};

struct LaunchModeInputs {
  std::uint32_t batch_size = 0;
  std::uint64_t per_item_kernel_ns = 0;  // k: the kernel's own time per item
  ModeOverhead launches{};               // per_item_ns = L
  ModeOverhead recorded{};               // setup_ns = R, per_item_ns = r
  ModeOverhead persistent{};             // setup_ns = P, per_item_ns = p
  bool persistent_resident = false;      // resident kernel: P is not paid again
};

struct LaunchModeDecision {
  LaunchMode mode = LaunchMode::launches;
  // Predicted cost of every mode; valid only where available[i].
  std::array<u128, kLaunchModeCount> predicted_ns{};
  std::array<bool, kLaunchModeCount> available{};
  // predicted(launches) - predicted(chosen); 0 when launches is chosen or
  // when there is no launch model.
  u128 savings_ns = 0;
};

[[nodiscard]] constexpr std::size_t index_of(LaunchMode m) noexcept {
  return static_cast<std::size_t>(m);
}

[[nodiscard]] constexpr std::string_view to_string(LaunchMode m) noexcept {
  switch (m) {
    case LaunchMode::launches: return "launches";
    case LaunchMode::recorded: return "recorded";
    case LaunchMode::persistent: return "persistent";
  }
  return "unknown";
}

// Parses "launches" / "recorded" / "persistent"; returns false otherwise.
[[nodiscard]] constexpr bool parse_launch_mode(std::string_view s, LaunchMode& out) noexcept {
  for (std::size_t i = 0; i < kLaunchModeCount; ++i) {
    const auto m = static_cast<LaunchMode>(i);
    if (s == to_string(m)) {
      out = m;
      return true;
    }
  }
  return false;
}

[[nodiscard]] constexpr u128 predicted_cost(std::uint32_t n, std::uint64_t k,
                                            u128 setup, std::uint64_t per_item) noexcept {
  return setup + u128{n} * (u128{per_item} + u128{k});
}

[[nodiscard]] constexpr LaunchModeDecision choose_launch_mode(
    const LaunchModeInputs& in) noexcept {
  LaunchModeDecision d{};
  const std::uint32_t n = in.batch_size;
  const std::uint64_t k = in.per_item_kernel_ns;

  // Launches are always possible; their prediction needs L.
  d.available[index_of(LaunchMode::launches)] = true;
  d.predicted_ns[index_of(LaunchMode::launches)] =
      predicted_cost(n, k, 0, in.launches.measured ? in.launches.per_item_ns : 0);

  if (in.recorded.measured) {
    d.available[index_of(LaunchMode::recorded)] = true;
    d.predicted_ns[index_of(LaunchMode::recorded)] =
        predicted_cost(n, k, in.recorded.setup_ns, in.recorded.per_item_ns);
  }
  if (in.persistent.measured) {
    d.available[index_of(LaunchMode::persistent)] = true;
    const u128 setup = in.persistent_resident ? u128{0} : u128{in.persistent.setup_ns};
    d.predicted_ns[index_of(LaunchMode::persistent)] =
        predicted_cost(n, k, setup, in.persistent.per_item_ns);
  }

  if (n <= 1 || !in.launches.measured || in.launches.per_item_ns == 0) {
    return d;  // launches, savings 0
  }

  std::size_t best = index_of(LaunchMode::launches);
  for (std::size_t i = best + 1; i < kLaunchModeCount; ++i) {
    // Strict '<': on a tie the earlier (simpler) mode stays.
    if (d.available[i] && d.predicted_ns[i] < d.predicted_ns[best]) best = i;
  }
  d.mode = static_cast<LaunchMode>(best);
  d.savings_ns = d.predicted_ns[index_of(LaunchMode::launches)] - d.predicted_ns[best];
  return d;
}

}  // namespace spool::policy
