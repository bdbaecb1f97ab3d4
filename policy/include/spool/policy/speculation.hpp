// Speculation verdict: adopt, reject, or keep racing a speculative kernel
// variant against its baseline. Pure arithmetic, no I/O, no allocation.
//
// Rules (faithful to the seed policy this was derived from):
//  * fewer than kMinDispatchesForVerdict dispatches on either side, or a zero
//    baseline mean -> KeepRacing (too little evidence / no model);
//  * effective speculative cost = mean + side_compile / speculative dispatches
//    (integer division; the compile cost is paid back over the dispatches);
//  * effective >= baseline -> Reject;
//  * savings >= kMinAdoptSavingsBps of the baseline -> Adopt, else KeepRacing.
#pragma once

#include <cstdint>
#include <string_view>

#include "spool/policy/wide.hpp"

namespace spool::policy {

inline constexpr std::uint32_t kMinDispatchesForVerdict = 8;
inline constexpr std::uint64_t kMinAdoptSavingsBps = 1500;  // 15 %

struct SpeculationObservation {
  std::uint32_t baseline_dispatches = 0;
  std::uint64_t baseline_mean_ns = 0;
  std::uint32_t speculative_dispatches = 0;
  std::uint64_t speculative_mean_ns = 0;
  std::uint64_t side_compile_cost_ns = 0;
};

enum class SpeculationVerdict : std::uint8_t { KeepRacing, Adopt, Reject };

struct SpeculationDecision {
  SpeculationVerdict verdict = SpeculationVerdict::KeepRacing;
  u128 effective_speculative_ns = 0;  // mean + amortised side-compile cost
  u128 savings_bps = 0;               // 0 unless the speculative side is cheaper
};

[[nodiscard]] constexpr SpeculationDecision evaluate_speculation(
    const SpeculationObservation& obs) noexcept {
  SpeculationDecision d{};
  if (obs.baseline_dispatches < kMinDispatchesForVerdict ||
      obs.speculative_dispatches < kMinDispatchesForVerdict) {
    return d;
  }
  if (obs.baseline_mean_ns == 0) return d;

  // speculative_dispatches >= 8 here, so the division is always defined.
  const u128 amortised =
      u128{obs.side_compile_cost_ns} / u128{obs.speculative_dispatches};
  d.effective_speculative_ns = u128{obs.speculative_mean_ns} + amortised;
  const u128 baseline = u128{obs.baseline_mean_ns};
  if (d.effective_speculative_ns >= baseline) {
    d.verdict = SpeculationVerdict::Reject;
    return d;
  }
  d.savings_bps = ratio_basis_points(baseline - d.effective_speculative_ns, baseline);
  d.verdict = d.savings_bps >= kMinAdoptSavingsBps ? SpeculationVerdict::Adopt
                                                   : SpeculationVerdict::KeepRacing;
  return d;
}

[[nodiscard]] constexpr SpeculationVerdict decide_speculation(
    const SpeculationObservation& obs) noexcept {
  return evaluate_speculation(obs).verdict;
}

[[nodiscard]] constexpr std::string_view to_string(SpeculationVerdict v) noexcept {
  switch (v) {
    case SpeculationVerdict::KeepRacing: return "keep_racing";
    case SpeculationVerdict::Adopt: return "adopt";
    case SpeculationVerdict::Reject: return "reject";
  }
  return "unknown";
}

}  // namespace spool::policy
