// Refill-count learner: the pure decision logic behind the allocator's
// asynchronous learner (alloc/, Box 3). Observations in, the refill count to
// publish out; integer fixed point (Q16), constexpr and noexcept, no state
// outside the structs the caller passes in.
//
// Observation. The refill engine watches each (thread, size class) over a
// window of about a millisecond: how many cycles the window lasted, how many
// of them the thread spent in the refill engine for that class (refilling an
// empty list, returning a full one, flushing at thread exit), how many
// refills it made and, for a window closed by the thread's exit, how many
// refilled blocks were never used. Two numbers come out of a window:
//
//   busy   = slow * thread_refills / refills / window
//                                   share of the thread's time spent refilling
//                                   any class: this class's cost per refill
//                                   times the thread's refills of every class
//   reward = 1 - ns_per_block / 32 - memory / 32
//            ns_per_block = slow / (blocks - unused), in nanoseconds:
//                           the refill engine's time per block it handed out
//                           (blocks: what the refills handed out; refills * count
//                           when the caller does not know)
//            memory       = count * block_bytes / max_batch_bytes
//
// The reward is bounded in [0, 1] and measures what a refill count costs per
// allocation, whatever else the thread does in the window (a producer that
// waits for its consumer has a small busy share but the same cost per block).
// The memory term only breaks ties towards smaller batches. The busy share
// says whether the cost matters at all (the watching rule below).
//
// Arms are the counts {2, 4, ..., 256} whose batch fits max_batch_bytes.
//
// Decisions happen once per epoch (`epoch_events` observations of the arm
// being measured):
//   * statistics are discounted (x `discount` per epoch) so that a workload
//     whose pattern changes is tracked within a few epochs;
//   * one epoch in `control_every` publishes the default count: an A/B control
//     measured under the same conditions as the learner's own epochs;
//   * the other epochs publish a discounted-UCB1 pick among the best known arm
//     and its two neighbours (exploration only ever costs one step away).
//
// Standing down, two ways, both publishing the default count:
//   * Watching: a control epoch shows the thread spending less than
//     `min_busy` of its time in the refill engine under the default count.
//     No count can win back more than that, and the learner's reward cannot
//     see every cost of a larger batch (colder blocks, a larger footprint),
//     so it does not gamble there. It keeps measuring the default only
//     (every epoch a control, of `watch_events` windows; the refill engine
//     opens a window of a watched class at one refill in eight) and starts
//     learning again as soon as an epoch shows the share above `min_busy`
//     (the workload changed).
//   * Stood down: every `judge_epochs` epochs its own epochs are compared
//     with the control epochs, each control paired with the learner epoch
//     just before it (so a workload changing phase between them biases one
//     pair, not the whole comparison). Unless it is ahead by `margin` on
//     average, it stops observing the class altogether for `backoff`
//     milliseconds (injected clock), doubling each time up to
//     `backoff_max_ms`, reset when a judgement finds it ahead; then it
//     observes again (resume()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "spool/policy/wide.hpp"

namespace spool::policy {

inline constexpr std::size_t kRefillArms = 8;
inline constexpr std::array<std::uint32_t, kRefillArms> kRefillArmCounts = {2,  4,  8,   16,
                                                                             32, 64, 128, 256};
inline constexpr std::uint64_t kQ16 = 1U << 16;

// floor(sqrt(v)), exact for every 128-bit v.
[[nodiscard]] constexpr std::uint64_t isqrt(u128 v) noexcept {
  if (v < 2) return static_cast<std::uint64_t>(v);
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
  u128 x = (u128{n} << 32) >> ip;  // mantissa in [1, 2), Q32
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

// UCB1 exploration bonus sqrt(2 ln total / pulls) in Q16, with both counts in
// Q16 (discounted pulls are fractional); pulls == 0 gives the maximum.
[[nodiscard]] constexpr std::uint64_t ucb1_bonus_q16(std::uint64_t total_q16,
                                                      std::uint64_t pulls_q16) noexcept {
  if (pulls_q16 == 0) return ~std::uint64_t{0};
  const std::uint64_t total = total_q16 >> 16;
  return isqrt((u128{2} * ln_q16(total < 1 ? 1 : total) << 32) / pulls_q16);
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

// One observation window of one thread and one class.
struct RefillWindow {
  std::uint64_t slow_cycles = 0;      // spent in the refill engine for the class
  std::uint64_t window_cycles = 0;    // length of the window
  std::uint32_t count = 0;            // refill count in force during the window
  std::uint32_t refills = 0;          // refills in the window
  std::uint32_t unused = 0;           // blocks flushed unused at thread exit
  std::uint64_t block_bytes = 0;
  std::uint64_t max_batch_bytes = 0;
  std::uint64_t cycles_per_us = 1;    // the cycle counter's rate
  std::uint32_t blocks = 0;           // blocks the refills handed out (0: refills * count)
  std::uint32_t thread_refills = 0;   // the thread's refills of every class in the window
                                      // (0: this class's only)
};

inline constexpr std::uint64_t kRewardScaleNs = 32;  // a cost per block that earns nothing

// Share of the window the thread spent refilling, Q16: the class's own time,
// scaled up by the thread's refills of every class when it made more than
// this class's (a thread that spreads its allocations over sixteen classes
// spends a sixteenth of its refill time in each; judged one class at a time,
// none would look worth learning, yet every class's count moves together).
[[nodiscard]] constexpr std::uint32_t window_busy_q16(const RefillWindow& w) noexcept {
  if (w.window_cycles == 0) return 0;
  u128 slow = w.slow_cycles;
  if (w.refills != 0 && w.thread_refills > w.refills) slow = slow * w.thread_refills / w.refills;
  if (slow > w.window_cycles) slow = w.window_cycles;
  return static_cast<std::uint32_t>((slow * kQ16) / w.window_cycles);
}

// Reward of a window in Q16, 0..kQ16 (see the header comment).
[[nodiscard]] constexpr std::uint32_t window_reward_q16(const RefillWindow& w) noexcept {
  if (w.max_batch_bytes == 0 || w.cycles_per_us == 0 || w.refills == 0 || w.count == 0) return 0;
  const u128 handed = w.blocks != 0 ? u128{w.blocks} : u128{w.refills} * w.count;
  const u128 used = handed > w.unused + 1 ? handed - w.unused : 1;
  // ns per block in Q16, divided by the scale: slow * 1000 / cycles_per_us / used / scale.
  const u128 per_block = (u128{w.slow_cycles} * 1000 * kQ16) / (u128{w.cycles_per_us} * used * kRewardScaleNs);
  const u128 memory = (u128{w.count} * w.block_bytes * kQ16) / w.max_batch_bytes / 32;
  const u128 cost = per_block + memory;
  return cost >= kQ16 ? 0 : static_cast<std::uint32_t>(kQ16 - cost);
}

struct RefillLearnerConfig {
  std::uint32_t epoch_events = 8;          // observations of the measured arm per epoch
  std::uint32_t watch_events = 2;          // ... while watching (the refill engine opens
                                           //     a watched class's windows sparsely)
  std::uint32_t control_every = 8;         // one epoch in this many is an A/B control
  std::uint32_t judge_epochs = 32;         // epochs between judgements
  std::uint32_t margin_q16 = kQ16 / 100;   // learner must be ahead of control by this
  std::uint32_t min_busy_q16 = kQ16 / 20;  // below this share of time refilling: stand down
  std::uint32_t discount_q16 = kQ16 * 9 / 10;  // per-epoch discount of arm statistics
  std::uint32_t explore_q16 = kQ16 / 8;    // scale of the UCB1 bonus
  std::uint64_t backoff_min_ms = 250;      // time stood down the first time
  std::uint64_t backoff_max_ms = 64'000;   // ... at most
};

struct RefillArmStats {
  std::uint64_t pulls_q16 = 0;   // discounted number of observations
  std::uint64_t reward_q16 = 0;  // discounted sum of rewards (Q16 each)
};

[[nodiscard]] constexpr std::uint64_t mean_q16(const RefillArmStats& a) noexcept {
  return a.pulls_q16 == 0 ? 0 : static_cast<std::uint64_t>((u128{a.reward_q16} << 16) / a.pulls_q16);
}

// Everything the learner knows about one size class.
struct RefillClassState {
  std::array<RefillArmStats, kRefillArms> arms{};
  std::size_t arms_used = 1;    // feasible arms: a prefix of kRefillArmCounts
  std::size_t default_arm = 0;  // the fixed count's arm (the control)
  std::size_t current = 0;      // arm published now (being measured)
  bool control = true;          // the current epoch is a control epoch
  std::uint32_t epoch_fill = 0;  // observations of `current` in this epoch
  std::uint64_t epoch_sum_q16 = 0;   // rewards of this epoch
  std::uint64_t epoch_busy_q16 = 0;  // busy shares of this epoch
  std::uint64_t epochs = 0;
  // Judgement: each control epoch is paired with the learner epoch just
  // before it (both measured under nearly the same conditions, so a workload
  // that changes phase does not bias the comparison much).
  std::uint64_t last_learn_q16 = 0;  // mean of the latest learner epoch
  bool have_last_learn = false;
  std::int64_t pair_diff_sum = 0;    // sum of (learner - control), Q16
  std::uint32_t pairs = 0;
  std::uint32_t since_judge = 0;     // epochs since the last judgement
  // Standing down.
  bool watching = false;           // only measuring the default (nothing to gain)
  bool stood_down = false;         // not observing at all until resume_ms
  std::uint64_t resume_ms = 0;     // when it observes again
  std::uint64_t backoff_ms = 0;    // the next stand-down's length
  std::uint32_t stand_downs = 0;   // how many times it stood down (judged not ahead)
  std::uint32_t watch_starts = 0;  // how many times it went watching
  std::uint32_t judged_ahead = 0;  // how many judgements it passed
};

// Starts a class: `arms_used` feasible arms, `default_arm` the fixed count's
// arm. The first epoch measures the default (a control epoch).
constexpr void init_class(RefillClassState& s, std::size_t arms_used, std::size_t default_arm,
                          const RefillLearnerConfig& cfg) noexcept {
  s = RefillClassState{};
  s.arms_used = arms_used == 0 || arms_used > kRefillArms ? kRefillArms : arms_used;
  s.default_arm = default_arm < s.arms_used ? default_arm : s.arms_used - 1;
  s.current = s.default_arm;
  s.control = true;
  s.backoff_ms = cfg.backoff_min_ms;
}

// Arm with the best discounted mean among those observed (the default when
// nothing is known); ties go to the smaller count.
[[nodiscard]] constexpr std::size_t best_arm(const RefillClassState& s) noexcept {
  std::size_t best = s.default_arm;
  std::uint64_t best_mean = 0;
  bool any = false;
  for (std::size_t i = 0; i < s.arms_used; ++i) {
    if (s.arms[i].pulls_q16 < kQ16 / 4) continue;  // less than a quarter observation left
    const std::uint64_t m = mean_q16(s.arms[i]);
    if (!any || m > best_mean) {
      best = i;
      best_mean = m;
      any = true;
    }
  }
  return best;
}

// Discounted UCB1 among the best arm and its neighbours. A neighbour never
// observed (or whose observations have all decayed) is tried first, the
// larger one before the smaller: the learner only runs where refilling takes
// a real share of the time, which larger batches reduce. Among observed arms,
// ties go to the smaller count.
[[nodiscard]] constexpr std::size_t ucb_pick(const RefillClassState& s,
                                             const RefillLearnerConfig& cfg) noexcept {
  const std::size_t best = best_arm(s);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < s.arms_used; ++i) total += s.arms[i].pulls_q16;
  const std::size_t lo = best == 0 ? 0 : best - 1;
  const std::size_t hi = best + 1 < s.arms_used ? best + 1 : best;
  for (std::size_t i = hi + 1; i-- > lo;) {
    if (s.arms[i].pulls_q16 == 0) return i;
  }
  std::size_t pick = best;
  u128 pick_score = 0;
  for (std::size_t i = lo; i <= hi; ++i) {
    const std::uint64_t bonus = ucb1_bonus_q16(total, s.arms[i].pulls_q16);
    const u128 score = u128{mean_q16(s.arms[i])} + ((u128{bonus} * cfg.explore_q16) >> 16);
    if (i == lo || score > pick_score) {
      pick = i;
      pick_score = score;
    }
  }
  return pick;
}

struct RefillDecision {
  std::size_t arm = 0;     // arm to publish (== state.current afterwards)
  bool changed = false;    // differs from what was published before
  bool stood_down = false; // this observation made the learner stand down (stop observing)
  bool epoch_end = false;
};

// Clears the epoch and the judgement in progress (state changes).
constexpr void restart_epochs(RefillClassState& s) noexcept {
  s.epoch_fill = 0;
  s.epoch_sum_q16 = 0;
  s.epoch_busy_q16 = 0;
  s.have_last_learn = false;
  s.pair_diff_sum = 0;
  s.pairs = 0;
  s.since_judge = 0;
}

// Stands down until now_ms + backoff: publishes the default, stops observing.
constexpr void stand_down(RefillClassState& s, std::uint64_t now_ms,
                          const RefillLearnerConfig& cfg) noexcept {
  s.stood_down = true;
  ++s.stand_downs;
  s.resume_ms = now_ms + s.backoff_ms;
  s.backoff_ms = s.backoff_ms * 2 > cfg.backoff_max_ms ? cfg.backoff_max_ms : s.backoff_ms * 2;
  s.watching = false;
  s.current = s.default_arm;
  s.control = true;
  restart_epochs(s);
}

[[nodiscard]] constexpr bool resume_due(const RefillClassState& s, std::uint64_t now_ms) noexcept {
  return s.stood_down && now_ms >= s.resume_ms;
}

// Observes again after a stand-down, starting with a control epoch.
constexpr void resume(RefillClassState& s) noexcept {
  s.stood_down = false;
  s.current = s.default_arm;
  s.control = true;
  restart_epochs(s);
}

// Feeds one window observed at now_ms. `arm` is the arm of the count in force
// during the window (arm_for_count(count)); reward and busy share from
// window_reward_q16 and window_busy_q16.
// While stood down, observations change nothing.
constexpr RefillDecision observe(RefillClassState& s, std::size_t arm, std::uint32_t reward_q16,
                                 std::uint32_t busy_q16, std::uint64_t now_ms,
                                 const RefillLearnerConfig& cfg) noexcept {
  RefillDecision d{s.current, false, false, false};
  if (s.stood_down || arm >= s.arms_used) return d;
  // While watching, windows only tell whether the thread is still quiet: the
  // arms' statistics keep what the last busy phase taught (neither added to
  // nor discounted), so that learning resumes where it left off.
  if (!s.watching) {
    s.arms[arm].pulls_q16 += kQ16;
    s.arms[arm].reward_q16 += reward_q16;
  }
  if (arm != s.current) return d;  // a late window of an earlier arm: statistics only
  s.epoch_sum_q16 += reward_q16;
  s.epoch_busy_q16 += busy_q16;
  const std::uint32_t per_epoch = s.watching ? cfg.watch_events : cfg.epoch_events;
  if (++s.epoch_fill < (per_epoch == 0 ? 1 : per_epoch)) return d;

  // ---- end of an epoch ----
  d.epoch_end = true;
  const std::uint64_t epoch_mean = s.epoch_sum_q16 / s.epoch_fill;
  const std::uint64_t epoch_busy = s.epoch_busy_q16 / s.epoch_fill;
  s.epoch_fill = 0;
  s.epoch_sum_q16 = 0;
  s.epoch_busy_q16 = 0;
  ++s.epochs;
  if (!s.watching) {
    for (auto& a : s.arms) {
      a.pulls_q16 = (a.pulls_q16 * cfg.discount_q16) >> 16;
      a.reward_q16 = (a.reward_q16 * cfg.discount_q16) >> 16;
    }
  }
  const std::size_t before = s.current;
  const auto down = [&] {
    stand_down(s, now_ms, cfg);
    d.stood_down = true;
    d.arm = s.current;
    d.changed = s.current != before;
  };
  // Under the default count the refill engine takes almost no time: no
  // count can win back enough to be worth exploring.
  const bool quiet = s.control && epoch_busy < cfg.min_busy_q16;
  if (s.watching) {
    if (quiet) return d;  // keep measuring the default
    s.watching = false;   // the workload changed: learn
    restart_epochs(s);
  } else if (quiet) {
    s.watching = true;
    ++s.watch_starts;
    s.current = s.default_arm;
    s.control = true;
    restart_epochs(s);
    d.arm = s.current;
    d.changed = s.current != before;
    return d;
  } else if (s.control) {
    if (s.have_last_learn) {
      s.pair_diff_sum += static_cast<std::int64_t>(s.last_learn_q16) -
                         static_cast<std::int64_t>(epoch_mean);
      ++s.pairs;
    }
  } else {
    s.last_learn_q16 = epoch_mean;
    s.have_last_learn = true;
  }
  if (cfg.judge_epochs != 0 && ++s.since_judge >= cfg.judge_epochs && s.pairs != 0) {
    const std::int64_t ahead = s.pair_diff_sum / static_cast<std::int64_t>(s.pairs);
    s.pair_diff_sum = 0;
    s.pairs = 0;
    s.since_judge = 0;
    if (ahead < static_cast<std::int64_t>(cfg.margin_q16)) {
      down();
      return d;
    }
    ++s.judged_ahead;
    s.backoff_ms = cfg.backoff_min_ms;
  }
  const bool control_next = cfg.control_every != 0 && s.epochs % cfg.control_every == 0;
  s.current = control_next ? s.default_arm : ucb_pick(s, cfg);
  s.control = control_next;
  d.arm = s.current;
  d.changed = s.current != before;
  return d;
}

}  // namespace spool::policy
