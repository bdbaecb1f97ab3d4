// Choosing a launch mode when switching modes is not free. While the
// persistent kernel is resident it holds the queue: running a batch as
// launches or recorded first parks it (cost Q), and the next persistent
// batch pays its start-up again (cost P). Pricing each batch as if it were
// alone flaps between modes and pays P and Q over and over.
//
// This policy is the rent-or-buy rule, in both directions, with the regret
// carried from batch to batch as state (the caller keeps it):
//  * not resident: take the persistent mode at once when it wins even with
//    its start-up P; otherwise add what it would have saved had it been
//    resident to `buy_regret`, and start it once that regret reaches P;
//  * resident: stay when the persistent mode is the cheapest; otherwise add
//    what staying costs over the best other mode to `sell_regret`, and leave
//    only once that reaches Q + P (parking now and starting again later).
// Either way the total paid is at most about twice what the best fixed
// choice in hindsight would pay, and short gaps never cost a restart.
// Pure: inputs and state in, decision and new state out.
#pragma once

#include <array>
#include <cstddef>

#include "spool/policy/launch_mode.hpp"

namespace spool::policy {

struct TransitionInputs {
  // Cost of running this batch in each mode as if that mode were already
  // set up (persistent: kernel resident; launches/recorded: nothing to park).
  std::array<double, kLaunchModeCount> cost_ns{};
  std::array<bool, kLaunchModeCount> available{};
  bool resident = false;        // the persistent kernel for this batch is resident
  double start_ns = 0;          // P: starting the persistent kernel
  double park_ns = 0;           // Q: parking it before another mode can run
};

struct TransitionState {
  double buy_regret = 0;   // what persistent would have saved while not resident
  double sell_regret = 0;  // what staying persistent cost over the best other mode
};

struct TransitionDecision {
  LaunchMode mode = LaunchMode::launches;
  // Predicted cost of each mode for this batch including the switch it
  // implies (P to start, Q to park); < 0 where unavailable.
  std::array<double, kLaunchModeCount> predicted_ns{-1, -1, -1};
  TransitionState state;
};

[[nodiscard]] constexpr TransitionDecision choose_with_transitions(const TransitionInputs& in,
                                                                   TransitionState st) noexcept {
  constexpr std::size_t kP = index_of(LaunchMode::persistent);
  TransitionDecision d{};
  // The best mode other than persistent (launches is always available).
  std::size_t other = index_of(LaunchMode::launches);
  for (std::size_t m = 0; m < kLaunchModeCount; ++m) {
    if (m == kP || !in.available[m]) continue;
    if (in.cost_ns[m] < in.cost_ns[other] || !in.available[other]) other = m;
  }
  for (std::size_t m = 0; m < kLaunchModeCount; ++m) {
    if (!in.available[m]) continue;
    const bool switch_cost = m == kP ? !in.resident : in.resident;
    d.predicted_ns[m] = in.cost_ns[m] + (switch_cost ? (m == kP ? in.start_ns : in.park_ns) : 0.0);
  }
  d.mode = static_cast<LaunchMode>(other);
  if (!in.available[kP]) {
    d.state = TransitionState{};
    return d;
  }
  const double stay = in.cost_ns[kP];
  const double alt = in.cost_ns[other];
  if (!in.resident) {
    if (d.predicted_ns[kP] <= alt) {  // wins even paying its start-up
      d.mode = LaunchMode::persistent;
      d.state = TransitionState{};
      return d;
    }
    st.sell_regret = 0;
    st.buy_regret += alt > stay ? alt - stay : 0.0;
    if (st.buy_regret >= in.start_ns) {
      d.mode = LaunchMode::persistent;
      st.buy_regret = 0;
    }
    d.state = st;
    return d;
  }
  st.buy_regret = 0;
  if (stay <= alt) {
    d.mode = LaunchMode::persistent;
    st.sell_regret = 0;
  } else {
    st.sell_regret += stay - alt;
    if (st.sell_regret >= in.park_ns + in.start_ns) {
      st.sell_regret = 0;  // leave: d.mode is the best other mode
    } else {
      d.mode = LaunchMode::persistent;
    }
  }
  d.state = st;
  return d;
}

}  // namespace spool::policy
