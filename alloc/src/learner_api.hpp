// Box 3's interface (the async learner). Box 2 uses exactly: RefillEvent,
// push_event, refill_count and learner_maybe_start. This header and
// learner.cpp include nothing of Box 1 (tls_cache.hpp) or Box 2 (refill.*,
// backend.*): Contract D, checked by tests/alloc/boundaries_test.cpp.
#pragma once

#include <cstdint>

namespace spool::alloc::detail {

// One refill, as seen by the refill engine. Copied by value into the ring.
struct RefillEvent {
  std::uint8_t cls = 0;
  std::uint8_t flags = 0;           // kEventFinal: the thread exited before the batch ran dry
  std::uint16_t count = 0;          // size of the batch that just ran dry (or was abandoned)
  std::uint16_t miss_streak = 0;    // consecutive refills closer than the target interval
  std::uint16_t unused = 0;         // final events: blocks of the batch never used
  std::uint64_t since_last_ns = 0;  // time since that batch was installed; 0 = first refill
};
inline constexpr std::uint8_t kEventFinal = 1;
static_assert(sizeof(RefillEvent) == 16);

// Contract A: never blocks; false when dropped (ring full).
bool push_event(const RefillEvent& e) noexcept;
// Contract B: the count the next refill of class cls should use (one relaxed load).
std::uint32_t refill_count(unsigned cls) noexcept;
// The count used before the learner publishes anything for cls.
std::uint32_t default_refill_count(unsigned cls) noexcept;

// Starts the learner thread when allowed (process init done, option on, not
// started yet). Called by Box 2 after a refill, with no lock held.
void learner_maybe_start() noexcept;
void learner_allow_start() noexcept;  // process init finished
void learner_stop() noexcept;         // joins the thread; it never restarts
void learner_after_fork_child() noexcept;

// Consumes every pending event on the calling thread (tests; the thread does
// the same periodically). Returns how many were consumed.
std::uint64_t learner_drain() noexcept;
// Tests: forget everything learned and published, empty the ring.
void learner_reset() noexcept;

struct LearnerCounters {
  bool running = false;
  std::uint64_t pushed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t consumed = 0;
  std::uint64_t decisions = 0;
  std::uint64_t cpu_ns = 0;
  std::uint64_t wall_ns = 0;
};
LearnerCounters learner_counters() noexcept;

}  // namespace spool::alloc::detail
