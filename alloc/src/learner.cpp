// Box 3 — the asynchronous learner. A background thread, started lazily from
// a refill once process initialisation is complete, drains the event ring,
// runs one UCB1 bandit per size class (spool/policy/refill_bandit.hpp) and
// publishes the chosen refill count in an atomic table that Box 2 reads at
// its next refill (Contract B). It never touches a thread's lists, never
// allocates, never takes a lock that Box 1 or Box 2 could hold.
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "event_ring.hpp"
#include "learner_api.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/size_class.hpp"
#include "spool/policy/refill_bandit.hpp"

namespace spool::alloc::detail {
namespace {

namespace pol = spool::policy;

constexpr std::uint32_t kEpochEvents = 8;  // events per class between decisions

enum State : int { kNotStarted, kStarting, kRunning, kStopped, kFailed };

constinit MpscRing<RefillEvent, 8192> g_ring;
constinit std::atomic<std::uint16_t> g_policy[kClassCount];  // 0 = default
constinit std::atomic<int> g_state{kNotStarted};
constinit std::atomic<bool> g_allowed{false};
constinit std::atomic<std::uint32_t> g_stop{0};  // futex word
constinit std::atomic<std::uint64_t> g_consumed{0};
constinit std::atomic<std::uint64_t> g_decisions{0};
constinit std::atomic<std::uint64_t> g_cpu_ns{0};
constinit std::atomic<std::uint64_t> g_start_ns{0};
constinit std::atomic<std::uint64_t> g_wall_ns{0};
pthread_t g_thread;

// Bandit state: touched only by whoever consumes the ring (the learner thread,
// or a test calling learner_drain while the thread is not running).
struct ClassLearner {
  pol::RefillBandit bandit{};
  std::uint32_t epoch = 0;
  bool init = false;
};
constinit ClassLearner g_learn[kClassCount];

std::uint64_t clock_ns(clockid_t id) noexcept {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t max_batch_bytes() noexcept {
  const long kib = option(Option::max_batch_kib);
  return static_cast<std::uint64_t>(kib > 0 ? kib : 1) * 1024;
}

void consume(const RefillEvent& e) noexcept {
  g_consumed.fetch_add(1, std::memory_order_relaxed);
  if (e.cls >= kClassCount || e.since_last_ns == 0 || e.count == 0) return;
  ClassLearner& l = g_learn[e.cls];
  const std::uint64_t block = class_size(e.cls);
  if (!l.init) {
    l.bandit.arms_used = pol::feasible_arms(block, max_batch_bytes());
    l.bandit.current = pol::arm_for_count(refill_count(e.cls));
    l.bandit.pending = l.bandit.current;
    l.init = true;
  }
  const long target_us = option(Option::learn_target_us);
  const pol::RefillRewardInputs in{
      e.since_last_ns, block * e.count,
      static_cast<std::uint64_t>(target_us > 0 ? target_us : 1) * 1000, max_batch_bytes(),
      e.count, (e.flags & kEventFinal) != 0 ? e.unused : 0U};
  pol::record_reward(l.bandit, pol::arm_for_count(e.count), pol::refill_reward_q16(in));
  if (++l.epoch < kEpochEvents) return;
  l.epoch = 0;
  const std::size_t before = l.bandit.current;
  const std::size_t arm = pol::decide_arm(l.bandit);
  if (arm != before) {
    g_policy[e.cls].store(static_cast<std::uint16_t>(pol::kRefillArmCounts[arm]),
                          std::memory_order_relaxed);
    g_decisions.fetch_add(1, std::memory_order_relaxed);
  }
}

void* learner_main(void*) {
  const long period_us = option(Option::learn_period_us);
  const long p = period_us > 0 ? period_us : 5000;
  const timespec period{p / 1'000'000, (p % 1'000'000) * 1000};
  while (g_stop.load(std::memory_order_acquire) == 0) {
    learner_drain();
    g_cpu_ns.store(clock_ns(CLOCK_THREAD_CPUTIME_ID), std::memory_order_relaxed);
    g_wall_ns.store(clock_ns(CLOCK_MONOTONIC) - g_start_ns.load(std::memory_order_relaxed),
                    std::memory_order_relaxed);
    // Sleeps one period unless learner_stop() wakes it.
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&g_stop), FUTEX_WAIT_PRIVATE, 0, &period,
            nullptr, 0);
  }
  learner_drain();
  g_cpu_ns.store(clock_ns(CLOCK_THREAD_CPUTIME_ID), std::memory_order_relaxed);
  return nullptr;
}

}  // namespace

bool push_event(const RefillEvent& e) noexcept { return g_ring.push(e); }

std::uint32_t default_refill_count(unsigned cls) noexcept {
  // About 8 KiB per batch, 2..32 blocks.
  const std::size_t n = 8192 / class_size(cls);
  return static_cast<std::uint32_t>(n < 2 ? 2 : (n > 32 ? 32 : n));
}

std::uint32_t refill_count(unsigned cls) noexcept {
  const std::uint16_t v = g_policy[cls].load(std::memory_order_relaxed);
  return v != 0 ? v : default_refill_count(cls);
}

void learner_allow_start() noexcept { g_allowed.store(true, std::memory_order_release); }

void learner_maybe_start() noexcept {
  if (g_state.load(std::memory_order_relaxed) != kNotStarted) return;
  if (!g_allowed.load(std::memory_order_acquire) || option(Option::learner) == 0) return;
  int s = kNotStarted;
  // Only one caller gets past this; a malloc made by pthread_create itself
  // sees kStarting and returns, so the start never recurses.
  if (!g_state.compare_exchange_strong(s, kStarting, std::memory_order_acq_rel)) return;
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the learner takes no signals
  g_start_ns.store(clock_ns(CLOCK_MONOTONIC), std::memory_order_relaxed);
  const int rc = pthread_create(&g_thread, nullptr, learner_main, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  g_state.store(rc == 0 ? kRunning : kFailed, std::memory_order_release);
}

std::uint64_t learner_drain() noexcept {
  std::uint64_t n = 0;
  RefillEvent e{};
  while (g_ring.pop(e)) {
    consume(e);
    ++n;
  }
  return n;
}

void learner_stop() noexcept {
  int s = kRunning;
  if (!g_state.compare_exchange_strong(s, kStopped, std::memory_order_acq_rel)) {
    s = kNotStarted;
    g_state.compare_exchange_strong(s, kStopped, std::memory_order_acq_rel);
    return;
  }
  g_stop.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&g_stop), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
  pthread_join(g_thread, nullptr);
}

void learner_after_fork_child() noexcept {
  // The thread does not exist in the child; events in flight may be torn.
  g_ring.reset();
  g_stop.store(0, std::memory_order_relaxed);
  int s = g_state.load(std::memory_order_relaxed);
  if (s == kRunning || s == kStarting) g_state.store(kNotStarted, std::memory_order_relaxed);
}

void learner_reset() noexcept {
  g_ring.reset();
  for (auto& p : g_policy) p.store(0, std::memory_order_relaxed);
  for (auto& l : g_learn) l = ClassLearner{};
  g_consumed.store(0, std::memory_order_relaxed);
  g_decisions.store(0, std::memory_order_relaxed);
}

LearnerCounters learner_counters() noexcept {
  LearnerCounters c;
  c.running = g_state.load(std::memory_order_acquire) == kRunning;
  c.pushed = g_ring.pushed();
  c.dropped = g_ring.dropped();
  c.consumed = g_consumed.load(std::memory_order_relaxed);
  c.decisions = g_decisions.load(std::memory_order_relaxed);
  c.cpu_ns = g_cpu_ns.load(std::memory_order_relaxed);
  c.wall_ns = g_wall_ns.load(std::memory_order_relaxed);
  return c;
}

}  // namespace spool::alloc::detail
