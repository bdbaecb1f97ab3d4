// Box 2's per-thread state (off the hot path): list caps, the learner's
// observation windows and the thread's counters, plus the registry of live
// threads that stats() merges (threads.cpp).
#pragma once

#include <atomic>
#include <cstdint>

#include "spool/alloc/detail/config.hpp"
#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {

// An open observation window of one class (see RefillEvent): start == 0 when
// none is open. One refill in four is timed (two cycle-counter reads); the
// window's refill time is extrapolated from those. Flushes are always timed.
struct ClassWindow {
  std::uint64_t start = 0;        // cycles() at the refill that opened it
  std::uint64_t timed_slow = 0;   // cycles of the timed refills
  std::uint64_t flush_slow = 0;   // cycles spent returning blocks (cap, exit)
  std::uint16_t refills = 0;
  std::uint16_t timed = 0;
  std::uint16_t count = 0;        // refill count in force when it opened
  std::uint32_t blocks = 0;       // blocks its refills handed out
  std::uint64_t thread_refills = 0;  // ThreadState::refills when it opened
};

// Counters the owner thread writes with load + store (no read-modify-write)
// and stats() reads from other threads.
struct ThreadCounters {
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> refills{0};
  std::atomic<std::uint64_t> refilled_blocks{0};
  std::atomic<std::uint64_t> flushes{0};
};

inline constexpr std::uint8_t kMaxCapShift = 5;  // caps grow to 32x SPOOL_ALLOC_CACHE_KIB at most

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct ThreadState {
  ThreadState* prev = nullptr;  // registry of live threads
  ThreadState* next = nullptr;
  bool registered = false;
  std::atomic<std::uint64_t>* hits = nullptr;  // this thread's Box 1 hit counters
  std::uint32_t cap[kClassCount] = {};
  // Adaptive caps: a list that ran empty (a refill) and then filled up to its
  // cap again is cycling through whole batches (allocate many, free many):
  // its cap doubles instead of flushing, up to kMaxCapShift doublings
  // (classes below 32 KiB only).
  std::uint8_t cap_shift[kClassCount] = {};
  bool refilled_since_full[kClassCount] = {};
  // Slow start towards a learned count above the fixed one: the count of the
  // thread's latest refill of the class (0: none yet, or no ramp in force).
  // A thread's first refill takes the fixed count and each later one twice
  // the one before, up to the published count (refill.cpp, ramped_count).
  std::uint16_t ramp[kClassCount] = {};
  // Blocks of small classes this thread freed before it ever allocated from
  // the class: another thread's blocks (refill.cpp, "held aside"). Kept out
  // of the list so that the thread's own allocations come from a batch of
  // its own; returned with the list's next flush or at thread exit.
  void* aside_head[kClassCount] = {};
  void* aside_tail[kClassCount] = {};
  std::uint8_t aside_n[kClassCount] = {};
  std::uint64_t refills = 0;  // refills of every class (the learner's busy share)
  ClassWindow win[kClassCount] = {};
  ThreadCounters ctr[kClassCount] = {};
};

extern constinit thread_local ThreadState tls_state SPOOL_ALLOC_TLS_MODEL;

// Puts the calling thread in the registry and arranges for thread_exit_flush
// to run when it ends (idempotent; cheap after the first call).
void ensure_registered() noexcept;
// Box 2 (refill.cpp): returns everything the thread caches; `final` when the
// thread is ending (its observation windows are closed and reported).
void flush_lists(ThreadState& ts, bool final) noexcept;

}  // namespace spool::alloc::detail
