// Box 3's interface (the async learner). Box 2 uses exactly: RefillEvent,
// push_event, refill_count, learner_observes, window_cycles,
// learner_maybe_start and learner_set_idle_hook. This header and learner.cpp include nothing of Box 1
// (tls_cache.hpp) or Box 2 (refill.*, backend.*): Contract D, checked by
// tests/alloc/boundaries_test.cpp.
#pragma once

#include <cstdint>

namespace spool::alloc::detail {

// One observation window of one thread and one size class, as seen by the
// refill engine (see spool/policy/refill_bandit.hpp). Copied by value.
struct RefillEvent {
  std::uint8_t cls = 0;
  std::uint8_t flags = 0;            // kEventFinal: closed by the thread's exit
  std::uint16_t count = 0;           // refill count in force during the window
  std::uint16_t refills = 0;         // refills in the window
  std::uint16_t unused = 0;          // final windows: blocks flushed unused at exit
  std::uint16_t thread_refills = 0;  // the thread's refills of every class in the window
  std::uint32_t blocks = 0;          // blocks the window's refills handed out
  std::uint64_t slow_cycles = 0;     // cycles the thread spent in Box 2 for the class
  std::uint64_t window_cycles = 0;   // length of the window in cycles
};
inline constexpr std::uint8_t kEventFinal = 1;
static_assert(sizeof(RefillEvent) == 32);

// Contract A: never blocks; false when dropped (ring full).
bool push_event(const RefillEvent& e) noexcept;
// Contract B: the count the next refill of class cls should use (one relaxed load).
std::uint32_t refill_count(unsigned cls) noexcept;
// How closely the learner wants class cls observed now: kObserveNone while it
// stands down there (Box 2 then does exactly what it does without a learner),
// kObserveSparse while it only watches the fixed count (Box 2 opens a window
// at one refill in eight, so a short-lived thread's single window of a class
// is observed in one thread out of eight), kObserveAll while it learns.
enum ObserveLevel : unsigned { kObserveNone = 0, kObserveSparse = 1, kObserveAll = 2 };
ObserveLevel learner_observes(unsigned cls) noexcept;
// The count used before (and whenever) the learner publishes nothing for cls:
// the fixed refill count.
std::uint32_t default_refill_count(unsigned cls) noexcept;
// Length of an observation window in cycles (about a millisecond; calibrated
// by the learner thread against the monotonic clock, a guess before that).
std::uint64_t window_cycles() noexcept;
// Tests: fixes the window length (the thread's calibration overwrites it).
void set_window_cycles(std::uint64_t cycles) noexcept;

// Starts the learner thread when allowed (process init done, option on, not
// started yet). Called by Box 2 after a refill, with no lock held.
void learner_maybe_start() noexcept;
// Process init finished (true); tests hold the thread back with false so that
// only their own learner_drain() consumes events.
void learner_allow_start(bool allowed = true) noexcept;
void learner_stop() noexcept;         // joins the thread; no restart after this
void learner_after_fork_child() noexcept;
// A function the thread calls when the process has been idle (no events) for
// a few periods: Box 2's release of memory it no longer needs. It must not
// wait for locks held by allocating threads.
void learner_set_idle_hook(void (*hook)() noexcept) noexcept;

// Consumes every pending event on the calling thread (tests; the thread does
// the same periodically). Returns how many were consumed.
std::uint64_t learner_drain() noexcept;
// Tests: forget everything learned and published, empty the ring, and allow
// the thread to be started again (after learner_stop).
void learner_reset() noexcept;

struct LearnerCounters {
  bool running = false;
  std::uint64_t pushed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t consumed = 0;
  std::uint64_t decisions = 0;        // times a published count changed
  std::uint64_t stand_downs = 0;      // times a class stood down
  std::uint32_t stood_down_now = 0;   // classes stood down now (judged not ahead, not observed)
  std::uint32_t watching_now = 0;     // classes only watching the default (nothing to gain)
  std::uint32_t classes_learning = 0; // classes with observations
  std::uint64_t cpu_ns = 0;
  std::uint64_t wall_ns = 0;
};
LearnerCounters learner_counters() noexcept;
// Per class: 0 = no observations, 1 = learning, 2 = stood down, 3 = watching.
unsigned learner_class_state(unsigned cls) noexcept;

}  // namespace spool::alloc::detail
