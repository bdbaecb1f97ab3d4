// Refill-count bandit: the pure arithmetic behind the allocator's learner
// (alloc/, Box 3). UCB1 over a fixed set of refill counts ("arms") per size
// class, integer fixed point (Q16), constexpr and noexcept throughout.
//
// Reward of one observed batch (n blocks of `block_bytes`, which lasted
// `interval_ns` before the thread's list ran dry again):
//
//   amortisation = clamp(1 - log2(target / interval) / 8, 0, 1)
//                  a refill costs a roughly fixed ~1 µs, so refills per
//                  allocated byte halve with every doubling of the batch:
//                  each doubling earns 1/8 until the batch lasts `target`,
//                  where the refill cost is noise (log scale, so that arms
//                  one doubling apart differ by a margin UCB1 can resolve)
//   memory       = n * block_bytes / max_batch_bytes   (bytes parked in the
//                  thread's list)
//   waste        = unused / n   (the thread exited with part of the batch
//                  never used: carving and returning it was wasted work)
//   reward       = clamp(amortisation - memory / 4 - waste / 2, 0, 1)
//
// So the bandit prefers the smallest batch that lasts the target interval:
// growing past it only adds retained memory, staying below it refills too
// often per allocated byte.
//
// Damping: the learner publishes a new arm only once per epoch of events, only
// after UCB1 has pointed the same way for kHysteresisEpochs epochs in a row,
// and then moves one arm at a time. Counts decay (halve) past kDecayPulls so
// the bandit keeps tracking a workload that changes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "spool/policy/wide.hpp"

namespace spool::policy {

inline constexpr std::size_t kRefillArms = 7;
inline constexpr std::array<std::uint32_t, kRefillArms> kRefillArmCounts = {2,  4,  8, 16,
                                                                             32, 64, 128};
inline constexpr std::uint64_t kQ16 = 1U << 16;
inline constexpr std::uint32_t kHysteresisEpochs = 2;
inline constexpr std::uint64_t kDecayPulls = 4096;

// floor(sqrt(v)), exact for every 128-bit v.
[[nodiscard]] constexpr std::uint64_t isqrt(u128 v) noexcept {
  if (v < 2) return static_cast<std::uint64_t>(v);
  if (v <= ~std::uint64_t{0}) {  // common case: 64-bit loop
    std::uint64_t rem = static_cast<std::uint64_t>(v);
    std::uint64_t res = 0;
    std::uint64_t bit = std::uint64_t{1} << 62;
    while (bit > rem) bit >>= 2;
    while (bit != 0) {
      if (rem >= res + bit) {
        rem -= res + bit;
        res = (res >> 1) + bit;
      } else {
        res >>= 1;
      }
      bit >>= 2;
    }
    return res;
  }
  // Bit-by-bit method: no overflow, no floating point.
  u128 rem = v;
  u128 res = 0;
  u128 bit = u128{1} << 126;
  while (bit > rem) bit >>= 2;
  while (bit != 0) {
    if (rem >= res + bit) {
      rem -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return static_cast<std::uint64_t>(res);
}

// log2(n) in Q16 (n >= 1), error below 2^-15: repeated squaring.
[[nodiscard]] constexpr std::uint64_t log2_q16(std::uint64_t n) noexcept {
  if (n <= 1) return 0;
  std::uint32_t ip = 63;
  while (((n >> ip) & 1U) == 0) --ip;
  // Fractional part of log2: mantissa x in [1, 2) in Q32, square 16 times.
  u128 x = (u128{n} << 32) >> ip;  // Q32
  std::uint64_t frac = 0;
  for (int i = 0; i < 16; ++i) {
    x = (x * x) >> 32;
    frac <<= 1;
    if (x >= (u128{2} << 32)) {
      x >>= 1;
      frac |= 1;
    }
  }
  return (std::uint64_t{ip} << 16) | frac;
}

// ln(n) in Q16 (n >= 1).
[[nodiscard]] constexpr std::uint64_t ln_q16(std::uint64_t n) noexcept {
  constexpr std::uint64_t kLn2Q32 = 2977044472ULL;  // ln 2 * 2^32
  return static_cast<std::uint64_t>((u128{log2_q16(n)} * kLn2Q32) >> 32);
}

// UCB1 exploration bonus sqrt(2 ln total / pulls) in Q16; pulls >= 1.
[[nodiscard]] constexpr std::uint64_t ucb1_bonus_q16(std::uint64_t total,
                                                      std::uint64_t pulls) noexcept {
  if (pulls == 0) return ~std::uint64_t{0};
  return isqrt((u128{2} * ln_q16(total) << 16) / pulls);
}

struct RefillRewardInputs {
  std::uint64_t interval_ns = 0;      // how long the batch lasted
  std::uint64_t batch_bytes = 0;      // n * block size
  std::uint64_t target_ns = 0;        // interval at which refill cost is negligible
  std::uint64_t max_batch_bytes = 0;  // memory scale
  std::uint64_t batch_blocks = 0;     // n (only needed with unused_blocks)
  std::uint64_t unused_blocks = 0;    // blocks of the batch never used
};

// Reward in Q16, 0..kQ16.
[[nodiscard]] constexpr std::uint32_t refill_reward_q16(const RefillRewardInputs& in) noexcept {
  if (in.target_ns == 0 || in.max_batch_bytes == 0 || in.interval_ns == 0) return 0;
  u128 amort = kQ16;
  if (in.interval_ns < in.target_ns) {
    const std::uint64_t short_by = log2_q16(in.target_ns) - log2_q16(in.interval_ns);
    amort = short_by / 8 >= kQ16 ? 0 : kQ16 - short_by / 8;
  }
  u128 cost = (u128{in.batch_bytes} * kQ16) / in.max_batch_bytes / 4;
  if (in.batch_blocks != 0) {
    const std::uint64_t unused =
        in.unused_blocks < in.batch_blocks ? in.unused_blocks : in.batch_blocks;
    cost += (u128{unused} * kQ16) / in.batch_blocks / 2;
  }
  if (cost >= amort) return 0;
  return static_cast<std::uint32_t>(amort - cost);
}

// Arm whose count is the largest not above `count` (arm 0 for smaller counts).
[[nodiscard]] constexpr std::size_t arm_for_count(std::uint32_t count) noexcept {
  std::size_t a = 0;
  for (std::size_t i = 0; i < kRefillArms; ++i) {
    if (kRefillArmCounts[i] <= count) a = i;
  }
  return a;
}

// Arms whose batch fits max_batch_bytes (at least one).
[[nodiscard]] constexpr std::size_t feasible_arms(std::uint64_t block_bytes,
                                                  std::uint64_t max_batch_bytes) noexcept {
  std::size_t n = 0;
  while (n < kRefillArms && u128{kRefillArmCounts[n]} * block_bytes <= max_batch_bytes) ++n;
  return n == 0 ? 1 : n;
}

struct RefillArm {
  std::uint64_t pulls = 0;
  std::uint64_t reward_sum_q16 = 0;
};

struct RefillBandit {
  std::array<RefillArm, kRefillArms> arms{};
  std::uint64_t total = 0;
  std::size_t arms_used = kRefillArms;  // feasible arms (prefix of kRefillArmCounts)
  std::size_t current = 0;              // arm published now
  std::size_t pending = 0;              // arm UCB1 pointed at last epoch
  std::uint32_t lead = 0;               // epochs in a row it did so
};

[[nodiscard]] constexpr std::uint64_t mean_q16(const RefillArm& a) noexcept {
  return a.pulls == 0 ? 0 : a.reward_sum_q16 / a.pulls;
}

// Records one reward for `arm`; halves every arm once the total passes kDecayPulls.
constexpr void record_reward(RefillBandit& b, std::size_t arm, std::uint32_t reward_q16) noexcept {
  if (arm >= kRefillArms) return;
  b.arms[arm].pulls += 1;
  b.arms[arm].reward_sum_q16 += reward_q16;
  b.total += 1;
  if (b.total > kDecayPulls) {
    b.total = 0;
    for (auto& a : b.arms) {
      a.pulls = (a.pulls + 1) / 2;
      a.reward_sum_q16 /= 2;
      b.total += a.pulls;
    }
  }
}

// UCB1 pick among the feasible arms: an arm never pulled first (nearest to the
// current one), else the largest mean + bonus; ties go to the smaller count.
[[nodiscard]] constexpr std::size_t ucb1_select(const RefillBandit& b) noexcept {
  const std::size_t n = b.arms_used == 0 || b.arms_used > kRefillArms ? kRefillArms : b.arms_used;
  std::size_t best = n;
  std::size_t best_dist = kRefillArms + 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (b.arms[i].pulls != 0) continue;
    const std::size_t dist = i > b.current ? i - b.current : b.current - i;
    if (dist < best_dist) {
      best = i;
      best_dist = dist;
    }
  }
  if (best != n) return best;
  u128 best_score = 0;
  best = 0;
  const u128 two_ln = (u128{2} * ln_q16(b.total)) << 16;  // once, not per arm
  for (std::size_t i = 0; i < n; ++i) {
    const u128 score = u128{mean_q16(b.arms[i])} + isqrt(two_ln / b.arms[i].pulls);
    if (i == 0 || score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

// End of an epoch: returns the arm to publish (damped: hysteresis, one step).
[[nodiscard]] constexpr std::size_t decide_arm(RefillBandit& b) noexcept {
  const std::size_t pick = ucb1_select(b);
  if (b.current >= b.arms_used) b.current = b.arms_used - 1;
  if (pick == b.current) {
    b.lead = 0;
    return b.current;
  }
  if (pick != b.pending) {
    b.pending = pick;
    b.lead = 1;
  } else {
    b.lead += 1;
  }
  if (b.lead >= kHysteresisEpochs) {
    b.current = pick > b.current ? b.current + 1 : b.current - 1;
    b.lead = 0;
  }
  return b.current;
}

}  // namespace spool::policy
