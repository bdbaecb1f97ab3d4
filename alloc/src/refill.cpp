// Box 2 — the refill engine. Runs only when Box 1 misses: refills an empty
// list with a batch from the shared backend, returns half a list that has
// reached its cap, returns everything when a thread exits.
//
// While the learner is on it also keeps, per thread and class, an observation
// window of about a millisecond (Box 3 calibrates its length): how long the
// window lasted and how many cycles the thread spent in here for the class.
// A closed window becomes one RefillEvent, built on the stack and copied into
// Box 3's ring (Contract C). The refill count comes from Box 3's atomic table,
// read once per refill; nothing here ever waits for the learner (Contract B).
#include "refill.hpp"

#include <atomic>
#include <cstdlib>

#include "backend.hpp"
#include "cycles.hpp"
#include "learner_api.hpp"
#include "option_fast.hpp"
#include "spool/alloc/detail/tls_cache.hpp"
#include "spool/alloc/options.hpp"
#include "thread_state.hpp"

namespace spool::alloc::detail {
namespace {

bool learning() noexcept { return option_fast(Option::learner) != 0; }

std::uint32_t clamp_u32(std::size_t v, std::size_t lo, std::size_t hi) noexcept {
  return static_cast<std::uint32_t>(v < lo ? lo : (v > hi ? hi : v));
}

// A list's cap: SPOOL_ALLOC_CACHE_KIB worth of blocks, at least 8 for the
// small classes and at least one block for the others (a thread keeps one
// 1 MiB block, not eight).
std::uint32_t cap_for(unsigned cls) noexcept {
  const long kib = option_fast(Option::cache_kib);
  const std::size_t bytes = static_cast<std::size_t>(kib > 0 ? kib : 1) * 1024;
  const std::size_t lo = class_size(cls) <= kSmallMax ? 8 : 1;
  return clamp_u32(bytes / class_size(cls), lo, 1U << 16);
}

// Cycles the thread spent in here for the class during window w.
std::uint64_t window_slow(const ClassWindow& w) noexcept {
  const std::uint64_t refill = w.timed == 0 ? 0 : w.timed_slow * w.refills / w.timed;
  return refill + w.flush_slow;
}

// Closes window w of class cls at `end` into an event.
void close_window(const ThreadState& ts, unsigned cls, ClassWindow& w, std::uint64_t end,
                  std::uint8_t flags, std::uint32_t unused) noexcept {
  RefillEvent ev{};
  ev.cls = static_cast<std::uint8_t>(cls);
  ev.flags = flags;
  ev.count = w.count;
  ev.refills = w.refills;
  ev.unused = static_cast<std::uint16_t>(unused < 0xFFFF ? unused : 0xFFFF);
  ev.blocks = w.blocks;
  // A window closed by a refill does not count that refill (it opens the next).
  const std::uint64_t all = ts.refills - w.thread_refills - (flags & kEventFinal ? 0 : 1);
  ev.thread_refills = static_cast<std::uint16_t>(all < 0xFFFF ? all : 0xFFFF);
  ev.slow_cycles = window_slow(w);
  ev.window_cycles = end - w.start;
  push_event(ev);
  w.start = 0;
}

// Whether this refill of a watched class is timed: the one that opens a
// window and every fourth after it.
bool timed_refill(const ClassWindow& w) noexcept { return w.start == 0 || (w.refills & 3U) == 3U; }

// Sparse observation: a window opens at one refill in eight. The counter is
// shared by all threads (short-lived threads would each start their own at
// zero); a relaxed increment per refill of a watched class with no window
// open, never on the hot path.
constinit std::atomic<std::uint32_t> g_sparse_openings{0};
bool sparse_skip() noexcept {
  return (g_sparse_openings.fetch_add(1, std::memory_order_relaxed) & 7U) != 0;
}

// After a refill of `count`; t0..t1 its cycles when it was timed.
void observe_refill(const ThreadState& ts, ClassWindow& w, unsigned cls, std::uint32_t count,
                    std::uint32_t got, bool timed,
                    ObserveLevel level, std::uint64_t t0, std::uint64_t t1) noexcept {
  if (w.start != 0) {
    if (w.count != count) {
      w.start = 0;  // the published count changed: a mixed window says nothing
    } else if (timed && t0 - w.start >= window_cycles() && w.refills >= 2) {
      close_window(ts, cls, w, t0, 0, 0);
      if (level != kObserveAll && sparse_skip()) return;  // the next opening is sampled too
    }
  }
  if (w.start == 0) {
    if (!timed) return;  // opens at the next refill, which is timed
    w = ClassWindow{t0, 0, 0, 0, 0, static_cast<std::uint16_t>(count < 0xFFFF ? count : 0xFFFF), 0,
                    ts.refills - 1};  // counting this refill
  }
  if (w.refills < 0xFFFF) ++w.refills;
  w.blocks += got;
  if (timed && w.timed < 0xFFFF) {
    ++w.timed;
    w.timed_slow += t1 - t0;
  }
}

// Passive false sharing: a thread whose first use of a small class is a free
// is freeing another thread's block, whose cache-line neighbours are likely
// still in use by other threads. Reusing it for the thread's own next
// allocation would have two cores writing one line (Hoard's cache-scratch).
// The first kAsideMax such blocks are held aside instead (every free of the
// class takes this slow path until then, as every first free does today);
// the thread's next allocation refills from a batch of its own. Then the
// thread caches what it frees as usual, so a pure consumer (xmalloc) pays
// kAsideMax slow frees per class once. Classes above 1 KiB are left alone:
// their blocks span many lines and share at most the two at their ends.
constexpr std::uint8_t kAsideMax = 8;

// Holds p aside (class never allocated by this thread); true while the
// thread should keep doing so, false once kAsideMax blocks are held.
bool hold_aside(ThreadState& ts, unsigned cls, void* p) noexcept {
  close_block(cls, p);
  store_next(p, ts.aside_head[cls]);
  if (ts.aside_n[cls] == 0) ts.aside_tail[cls] = p;
  ts.aside_head[cls] = p;
  return ++ts.aside_n[cls] < kAsideMax;
}

// Returns up to n blocks from the front of the list to the backend, cut into
// pieces of the refill count while walking to the last of them (the walk is
// needed to find it anyway), so that the next refill of any thread takes a
// piece whole: O(1) under the depot lock instead of a walk over blocks that
// are cold in its cache. At most kMaxPieces pieces; the last takes the rest.
// The blocks held aside go back in the same call (one more piece, one lock).
// Returns how many blocks left the list.
constexpr unsigned kMaxPieces = 64;
std::uint32_t return_blocks(ThreadState& ts, unsigned cls, std::uint32_t n) noexcept {
  std::uint32_t piece = effective_refill_count(cls);
  if (ts.cap[cls] != 0 && piece > ts.cap[cls]) piece = ts.cap[cls];
  Piece pieces[kMaxPieces + 1];
  unsigned k = 0;
  std::uint32_t total = 0;
  while (k < kMaxPieces && total < n) {
    const std::uint32_t left = n - total;
    const std::uint32_t want = k + 1 == kMaxPieces || left < piece ? left : piece;
    Piece& pc = pieces[k];
    pc.n = detach_chain(cls, want, &pc.head, &pc.tail);
    if (pc.n == 0) break;
    total += pc.n;
    ++k;
  }
  if (ts.aside_n[cls] != 0) {
    pieces[k++] = Piece{ts.aside_head[cls], ts.aside_tail[cls], ts.aside_n[cls]};
    ts.aside_head[cls] = ts.aside_tail[cls] = nullptr;
    ts.aside_n[cls] = 0;
  }
  backend_give_pieces(cls, pieces, k);
  return total;
}

std::uint32_t clamp_to_batch(unsigned cls, std::size_t want) noexcept {
  const long kib = option_fast(Option::max_batch_kib);
  const std::size_t max_bytes = static_cast<std::size_t>(kib > 0 ? kib : 1) * 1024;
  return clamp_u32(want, 1, max_bytes / class_size(cls) > 0 ? max_bytes / class_size(cls) : 1);
}

// The fixed count of class cls (what a learner-less process refills), clamped.
std::uint32_t fixed_batch(unsigned cls) noexcept { return clamp_to_batch(cls, default_refill_count(cls)); }

// Slow start (as tcmalloc grows a thread's lists): when the learner has
// published a count above the fixed one, a thread's first refill of the
// class still takes the fixed count and each later refill twice the one
// before, up to the published count. A short-lived thread, which needs a
// handful of blocks per class, then carves and abandons no more than it
// would under the fixed count, whatever the learner chose for the threads
// that refill all the time; those reach the learned count within a few
// refills. A count the user fixed (SPOOL_ALLOC_REFILL) is used as it is.
std::uint32_t ramped_count(ThreadState& ts, unsigned cls, std::uint32_t target) noexcept {
  const std::uint32_t base = option_fast(Option::refill) > 0 ? target : fixed_batch(cls);
  if (target <= base) {
    ts.ramp[cls] = 0;
    return target;
  }
  const std::uint32_t r = ts.ramp[cls];
  const std::uint32_t next = r < base ? base : (r >= target / 2 ? target : r * 2);
  ts.ramp[cls] = static_cast<std::uint16_t>(next);
  return next;
}

}  // namespace

std::uint32_t effective_refill_count(unsigned cls) noexcept {
  const long fixed = option_fast(Option::refill);
  return clamp_to_batch(cls, fixed > 0 ? static_cast<std::size_t>(fixed) : refill_count(cls));
}

void* refill_and_alloc(unsigned cls) noexcept {
  ensure_registered();
  ThreadState& ts = tls_state;
  ClassWindow& w = ts.win[cls];
  // A list whose cap has doubled cycles through whole batches (allocate
  // many, free many): its refills take as many blocks more (the depot holds
  // them as pieces of the refill count, gathered whole, see backend_take).
  // The learner does not watch such a list: the count it would judge is not
  // the count in force.
  // Nor does it watch a thread still ramping up to the published count
  // (slow start): such a window would measure the ramp, not the count.
  const std::uint32_t target = effective_refill_count(cls);
  const std::uint32_t count = ramped_count(ts, cls, target);
  const unsigned shift = ts.cap_shift[cls];
  const ObserveLevel level = learning() && shift == 0 && count == target ? learner_observes(cls) : kObserveNone;
  const bool watch = level != kObserveNone && (w.start != 0 || level == kObserveAll || !sparse_skip());
  const bool timed = watch && timed_refill(w);
  const std::uint64_t t0 = timed ? cycles() : 0;
  bump(ts.ctr[cls].misses);
  if (ts.cap[cls] == 0) ts.cap[cls] = cap_for(cls);
  const std::uint32_t cap = ts.cap[cls];
  std::uint32_t want = count << shift;
  if (shift != 0 && want > cap / 2) want = cap / 2 > count ? cap / 2 : count;
  const Chain c = backend_take(cls, want < cap ? want : cap);
  if (c.n == 0) return nullptr;
  void* first = c.head;
  set_room(cls, static_cast<std::int32_t>(cap));
  install_chain(cls, load_next(first), c.n - 1);
  bump(ts.ctr[cls].refills);
  ++ts.refills;
  bump(ts.ctr[cls].refilled_blocks, c.n);
  ts.refilled_since_full[cls] = true;
  if (watch) {
    observe_refill(ts, w, cls, count, c.n, timed, level, t0, timed ? cycles() : 0);
    learner_maybe_start();  // no lock held here
  } else {
    w.start = 0;  // the learner does not watch this class (now)
  }
  return first;
}

void free_slow(void* p, unsigned cls) noexcept {
  set_room(cls, room(cls) + 1);  // undo the fast path's decrement
  if (cls >= kClassCount) {
    if (cls == kLargeClass) {
      large_free(p);
      return;
    }
    fatal("free of a pointer it did not allocate (bad segment class):", p);
  }
  ensure_registered();
  ThreadState& ts = tls_state;
  if (ts.cap[cls] == 0) {  // this thread has not allocated from the class: list is empty
    const bool aside = class_size(cls) <= kSmallMax;
    if (aside && hold_aside(ts, cls, p)) return;  // room stays 0: the next free comes here
    ts.cap[cls] = cap_for(cls);
    set_room(cls, static_cast<std::int32_t>(ts.cap[cls]));
    if (aside) return;  // p is the last block held aside
  } else if (ts.refilled_since_full[cls] && ts.cap_shift[cls] < kMaxCapShift &&
             class_size(cls) < kReleaseFrom && ts.cap[cls] <= (1U << 15)) {
    // At the cap, but the list ran empty since it was last full: the thread
    // cycles through whole batches. Doubling the cap keeps the next cycle in
    // the thread instead of sending it through the depot twice. Small
    // classes only (below 32 KiB): a medium block is too big to hoard.
    const std::uint32_t grown = ts.cap[cls] * 2;
    set_room(cls, room(cls) + static_cast<std::int32_t>(grown - ts.cap[cls]));
    ts.cap[cls] = grown;
    ++ts.cap_shift[cls];
    ts.refilled_since_full[cls] = false;
  } else {  // at the cap: return half to the backend
    ts.refilled_since_full[cls] = false;
    ClassWindow& w = ts.win[cls];
    const std::uint64_t t0 = w.start != 0 ? cycles() : 0;
    return_blocks(ts, cls, ts.cap[cls] > 1 ? ts.cap[cls] / 2 : 1);
    bump(ts.ctr[cls].flushes);
    if (w.start != 0) w.flush_slow += cycles() - t0;
  }
  close_block(cls, p);
  push(cls, p);
  set_room(cls, room(cls) - 1);
}

// Whether the window a thread's exit closes is worth reporting: only if its
// refills handed out at least kMinFinalBatches fixed-count batches. A thread
// that needs fewer blocks of a class in its whole life spends it creating
// itself and touching fresh memory, not refilling; its window measures that
// noise, whatever the count (under slow start its first refill takes the
// fixed count anyway). Such windows used to outnumber all others wherever
// threads churn and steered every class towards the smallest counts. The
// threshold is in blocks, not refills, so that it drops the same threads
// whatever count is in force.
constexpr std::uint32_t kMinFinalBatches = 4;
bool reportable_final(unsigned cls, const ClassWindow& w) noexcept {
  return w.blocks >= kMinFinalBatches * fixed_batch(cls);
}

// Gives the whole list of every class back to the backend. At thread exit
// every open window worth reporting is closed with the flush in it: a batch
// that was mostly abandoned shows up as time spent carving and returning it.
void flush_lists(ThreadState& ts, bool final) noexcept {
  for (unsigned cls = 0; cls < kClassCount; ++cls) {
    ClassWindow& w = ts.win[cls];
    const std::uint64_t t0 = w.start != 0 ? cycles() : 0;
    const std::uint32_t n = return_blocks(ts, cls, 0xFFFF'FFFFU);
    if (n != 0) bump(ts.ctr[cls].flushes);
    set_room(cls, 0);
    ts.cap[cls] = 0;
    ts.cap_shift[cls] = 0;
    ts.refilled_since_full[cls] = false;
    ts.ramp[cls] = 0;
    if (w.start != 0) {
      const std::uint64_t t1 = cycles();
      w.flush_slow += t1 - t0;
      if (final && learning() && learner_observes(cls) != kObserveNone && reportable_final(cls, w)) {
        close_window(ts, cls, w, t1, kEventFinal, n);
      } else {
        w.start = 0;
      }
    }
  }
}

void flush_all_lists() noexcept { flush_lists(tls_state, false); }

RefillCounters refill_counters(unsigned cls) noexcept {
  RefillCounters all[kClassCount];
  std::uint64_t hits[kClassCount];
  merged_counters(all, hits);
  return cls < kClassCount ? all[cls] : RefillCounters{};
}

}  // namespace spool::alloc::detail
