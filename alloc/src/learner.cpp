// Box 3 — the asynchronous learner. A background thread, started lazily from
// a refill once process initialisation is complete, drains the event ring,
// feeds each observation window to its size class's learner
// (spool/policy/refill_bandit.hpp: discounted UCB1 over refill counts with an
// A/B control and a stand-down rule) and publishes the chosen count in an
// atomic table that Box 2 reads at its next refill (Contract B); where it
// stands down it also tells Box 2 to stop observing the class. It never
// touches a thread's lists, never allocates, never takes a lock that Box 1 or
// Box 2 could hold. When no events arrive it sleeps longer and longer, and
// runs Box 2's idle hook (memory release) now and then.
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "cycles.hpp"
#include "event_ring.hpp"
#include "learner_api.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/size_class.hpp"
#include "spool/policy/refill_bandit.hpp"

namespace spool::alloc::detail {
namespace {

namespace pol = spool::policy;

enum State : int { kNotStarted, kStarting, kRunning, kStopped, kFailed };

constexpr std::uint64_t kWindowGuessCycles = 2'000'000;  // ~1 ms at 2 GHz
constexpr unsigned kIdleBackoffMax = 16;                  // longest sleep: 16 periods

constinit MpscRing<RefillEvent, 4096> g_ring;
constinit std::atomic<std::uint16_t> g_policy[kClassCount];  // 0 = default
constinit std::atomic<std::uint64_t> g_window_cycles{kWindowGuessCycles};
constinit std::atomic<int> g_state{kNotStarted};
constinit std::atomic<bool> g_allowed{false};
constinit std::atomic<std::uint32_t> g_stop{0};  // futex word
constinit std::atomic<std::uint64_t> g_consumed{0};
constinit std::atomic<std::uint64_t> g_decisions{0};
constinit std::atomic<std::uint64_t> g_stand_downs{0};
constinit std::atomic<std::uint64_t> g_cpu_ns{0};
constinit std::atomic<std::uint64_t> g_start_ns{0};
constinit std::atomic<std::uint64_t> g_wall_ns{0};
constinit std::atomic<void (*)() noexcept> g_idle_hook{nullptr};
constinit std::atomic<std::uint8_t> g_class_state[kClassCount];  // learner_class_state()
// What Box 2 observes per class, as kObserveAll - level (zero-initialised: all).
constinit std::atomic<std::uint8_t> g_observe_less[kClassCount];
pthread_t g_thread;

// Learner state: touched only by whoever consumes the ring (the learner
// thread, or a test calling learner_drain while the thread is not running).
struct ClassLearner {
  pol::RefillClassState s{};
  bool init = false;
};
constinit ClassLearner g_learn[kClassCount];
constexpr pol::RefillLearnerConfig kConfig{};

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

void publish(unsigned cls, std::size_t arm) noexcept {
  g_policy[cls].store(static_cast<std::uint16_t>(pol::kRefillArmCounts[arm]),
                      std::memory_order_relaxed);
}

std::uint64_t now_ms() noexcept { return clock_ns(CLOCK_MONOTONIC_COARSE) / 1'000'000; }

void consume(const RefillEvent& e) noexcept {
  g_consumed.fetch_add(1, std::memory_order_relaxed);
  if (e.cls >= kClassCount || e.window_cycles == 0 || e.count == 0) return;
  ClassLearner& l = g_learn[e.cls];
  const std::uint64_t block = class_size(e.cls);
  if (!l.init) {
    pol::init_class(l.s, pol::feasible_arms(block, max_batch_bytes()),
                    pol::arm_for_count(default_refill_count(e.cls)), kConfig);
    l.init = true;
  }
  if (l.s.arms_used < 2) return;  // one feasible count: nothing to learn
  const std::uint64_t per_us = window_cycles() / 1000;
  const pol::RefillWindow w{e.slow_cycles, e.window_cycles, e.count,
                            e.refills,     e.unused,        block,
                            max_batch_bytes(), per_us == 0 ? 1 : per_us, e.blocks,
                            e.thread_refills};
  const pol::RefillDecision d =
      pol::observe(l.s, pol::arm_for_count(e.count), pol::window_reward_q16(w),
                   pol::window_busy_q16(w), now_ms(), kConfig);
  if (d.changed) {
    // The default arm is published as 0 ("use the fixed count") so that a
    // stood-down class reads exactly what a learner-less process reads.
    if (d.arm == l.s.default_arm) {
      g_policy[e.cls].store(0, std::memory_order_relaxed);
    } else {
      publish(e.cls, d.arm);
    }
    g_decisions.fetch_add(1, std::memory_order_relaxed);
  }
  if (d.stood_down) g_stand_downs.fetch_add(1, std::memory_order_relaxed);
  const ObserveLevel level = l.s.stood_down ? kObserveNone : (l.s.watching ? kObserveSparse : kObserveAll);
  g_observe_less[e.cls].store(static_cast<std::uint8_t>(kObserveAll - level), std::memory_order_relaxed);
  g_class_state[e.cls].store(l.s.stood_down ? 2 : (l.s.watching ? 3 : 1), std::memory_order_relaxed);
}

// Classes whose stand-down is over observe again (learner thread only).
void resume_due_classes(std::uint64_t now) noexcept {
  for (unsigned cls = 0; cls < kClassCount; ++cls) {
    ClassLearner& l = g_learn[cls];
    if (!l.init || !pol::resume_due(l.s, now)) continue;
    pol::resume(l.s);
    g_observe_less[cls].store(0, std::memory_order_relaxed);
    g_class_state[cls].store(1, std::memory_order_relaxed);
  }
}

void* learner_main(void*) {
  const long period_us = option(Option::learn_period_us);
  const std::uint64_t base_ns = static_cast<std::uint64_t>(period_us > 0 ? period_us : 5000) * 1000;
  const std::uint64_t c0 = cycles();
  const std::uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
  unsigned idle = 0;
  std::uint64_t last_idle_hook = t0;
  while (g_stop.load(std::memory_order_acquire) == 0) {
    const std::uint64_t n = learner_drain();
    const std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
    resume_due_classes(now_ms());
    // Calibrate the window: cycles per millisecond over everything so far.
    if (now - t0 >= 5'000'000) {
      const std::uint64_t per_ms = (cycles() - c0) / ((now - t0) / 1'000'000);
      if (per_ms != 0) g_window_cycles.store(per_ms, std::memory_order_relaxed);
    }
    g_cpu_ns.store(clock_ns(CLOCK_THREAD_CPUTIME_ID), std::memory_order_relaxed);
    g_wall_ns.store(now - g_start_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
    idle = n == 0 ? (idle < kIdleBackoffMax ? idle + 1 : idle) : 0;
    if (idle >= 2 && now - last_idle_hook >= 100'000'000) {
      if (auto* hook = g_idle_hook.load(std::memory_order_acquire)) hook();
      last_idle_hook = now;
    }
    // Sleeps one period (longer while idle) unless learner_stop() wakes it.
    const std::uint64_t sleep_ns = base_ns * (idle > 1 ? idle : 1);
    const timespec period{static_cast<time_t>(sleep_ns / 1'000'000'000),
                          static_cast<long>(sleep_ns % 1'000'000'000)};
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
  // About 32 KiB per batch, 2..32 blocks (tcmalloc moves 64 KiB, at most 32).
  const std::size_t n = 32768 / class_size(cls);
  return static_cast<std::uint32_t>(n < 2 ? 2 : (n > 32 ? 32 : n));
}

std::uint32_t refill_count(unsigned cls) noexcept {
  const std::uint16_t v = g_policy[cls].load(std::memory_order_relaxed);
  return v != 0 ? v : default_refill_count(cls);
}

ObserveLevel learner_observes(unsigned cls) noexcept {
  return static_cast<ObserveLevel>(kObserveAll - g_observe_less[cls].load(std::memory_order_relaxed));
}

std::uint64_t window_cycles() noexcept { return g_window_cycles.load(std::memory_order_relaxed); }
void set_window_cycles(std::uint64_t c) noexcept {
  g_window_cycles.store(c == 0 ? 1 : c, std::memory_order_relaxed);
}

void learner_set_idle_hook(void (*hook)() noexcept) noexcept {
  g_idle_hook.store(hook, std::memory_order_release);
}

void learner_allow_start(bool allowed) noexcept { g_allowed.store(allowed, std::memory_order_release); }

void learner_maybe_start() noexcept {
  if (g_state.load(std::memory_order_relaxed) != kNotStarted) return;
  if (!g_allowed.load(std::memory_order_acquire) || option(Option::learner) == 0) return;
  int s = kNotStarted;
  // Only one caller gets past this; a malloc made by pthread_create itself
  // sees kStarting and returns, so the start never recurses.
  if (!g_state.compare_exchange_strong(s, kStarting, std::memory_order_acq_rel)) return;
  const int saved_errno = errno;  // this runs inside malloc, which must keep errno
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the learner takes no signals
  g_start_ns.store(clock_ns(CLOCK_MONOTONIC), std::memory_order_relaxed);
  const int rc = pthread_create(&g_thread, nullptr, learner_main, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  g_state.store(rc == 0 ? kRunning : kFailed, std::memory_order_release);
  errno = saved_errno;
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
  learner_stop();
  g_ring.reset();
  for (auto& p : g_policy) p.store(0, std::memory_order_relaxed);
  for (auto& c : g_class_state) c.store(0, std::memory_order_relaxed);
  for (auto& q : g_observe_less) q.store(0, std::memory_order_relaxed);
  for (auto& l : g_learn) l = ClassLearner{};
  g_consumed.store(0, std::memory_order_relaxed);
  g_decisions.store(0, std::memory_order_relaxed);
  g_stand_downs.store(0, std::memory_order_relaxed);
  g_window_cycles.store(kWindowGuessCycles, std::memory_order_relaxed);
  g_stop.store(0, std::memory_order_relaxed);
  g_state.store(kNotStarted, std::memory_order_release);
}

LearnerCounters learner_counters() noexcept {
  LearnerCounters c;
  c.running = g_state.load(std::memory_order_acquire) == kRunning;
  c.pushed = g_ring.pushed();
  c.dropped = g_ring.dropped();
  c.consumed = g_consumed.load(std::memory_order_relaxed);
  c.decisions = g_decisions.load(std::memory_order_relaxed);
  c.stand_downs = g_stand_downs.load(std::memory_order_relaxed);
  for (const auto& s : g_class_state) {
    const auto v = s.load(std::memory_order_relaxed);
    if (v != 0) ++c.classes_learning;
    if (v == 2) ++c.stood_down_now;
    if (v == 3) ++c.watching_now;
  }
  c.cpu_ns = g_cpu_ns.load(std::memory_order_relaxed);
  c.wall_ns = g_wall_ns.load(std::memory_order_relaxed);
  return c;
}

unsigned learner_class_state(unsigned cls) noexcept {
  return cls < kClassCount ? g_class_state[cls].load(std::memory_order_relaxed) : 0;
}

}  // namespace spool::alloc::detail
