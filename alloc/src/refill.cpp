// Box 2 — the refill engine. Runs only when Box 1 misses: refills an empty
// list with a batch from the shared backend, returns half a list that has
// reached its cap, returns everything when a thread exits, and tells Box 3
// about each refill through a copied event (Contract C). It reads the refill
// count from Box 3's atomic table and never waits for the learner (Contract B).
#include "refill.hpp"

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <cstdlib>

#include "backend.hpp"
#include "learner_api.hpp"
#include "spinlock.hpp"
#include "spool/alloc/detail/tls_cache.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/stats.hpp"

namespace spool::alloc::detail {

// Box 1's thread-local lists (declared in tls_cache.hpp).
constinit thread_local void* tls_head[kListSlots] SPOOL_ALLOC_TLS_MODEL = {};
constinit thread_local std::int32_t tls_room[kListSlots] SPOOL_ALLOC_TLS_MODEL = {};
#if defined(SPOOL_ALLOC_STATS)
constinit thread_local std::atomic<std::uint64_t> tls_hits[kClassCount] SPOOL_ALLOC_TLS_MODEL = {};
#endif

namespace {

// Box 2's own per-thread state: caps and refill history, off the hot path.
struct ThreadState {
  ThreadState* prev = nullptr;  // registry of live threads (stats merging)
  ThreadState* next = nullptr;
  bool registered = false;
  std::atomic<std::uint64_t>* hits = nullptr;  // this thread's Box 1 hit counters
  std::uint32_t cap[kClassCount] = {};
  std::uint32_t last_count[kClassCount] = {};
  std::uint32_t streak[kClassCount] = {};
  std::uint32_t sample = 0;  // events are sampled: one refill in kEventSample
  std::uint64_t last_refill_ns[kClassCount] = {};
};
constinit thread_local ThreadState tls_state SPOOL_ALLOC_TLS_MODEL{};

struct alignas(64) ClassCounters {
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> refills{0};
  std::atomic<std::uint64_t> refilled_blocks{0};
  std::atomic<std::uint64_t> flushes{0};
};
constinit ClassCounters g_counters[kClassCount];

constinit SpinLock g_registry_lock;
constinit ThreadState* g_registry = nullptr;
[[maybe_unused]] constinit std::uint64_t g_dead_hits[kClassCount] = {};  // under g_registry_lock
constinit SpinLock g_key_lock;
constinit std::atomic<bool> g_key_ready{false};
pthread_key_t g_key;

std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
  c.fetch_add(n, std::memory_order_relaxed);
}

std::uint32_t clamp_u32(std::size_t v, std::size_t lo, std::size_t hi) noexcept {
  return static_cast<std::uint32_t>(v < lo ? lo : (v > hi ? hi : v));
}

std::uint32_t cap_for(unsigned cls) noexcept {
  const long kib = option(Option::cache_kib);
  const std::size_t bytes = static_cast<std::size_t>(kib > 0 ? kib : 1) * 1024;
  return clamp_u32(bytes / class_size(cls), 8, 1U << 16);
}

void thread_exit(void*) noexcept;

void unregister_locked(ThreadState& ts) noexcept {
  if (ts.prev != nullptr) ts.prev->next = ts.next;
  if (ts.next != nullptr) ts.next->prev = ts.prev;
  if (g_registry == &ts) g_registry = ts.next;
  ts.prev = ts.next = nullptr;
}

void ensure_registered() noexcept {
  ThreadState& ts = tls_state;
  if (ts.registered) return;
  if (!g_key_ready.load(std::memory_order_acquire)) {
    SpinGuard g(g_key_lock);
    if (!g_key_ready.load(std::memory_order_relaxed)) {
      if (pthread_key_create(&g_key, thread_exit) != 0) return;  // no exit flush then
      g_key_ready.store(true, std::memory_order_release);
    }
  }
  // A non-null value makes pthread run thread_exit when the thread ends.
  pthread_setspecific(g_key, &ts);
  SpinGuard g(g_registry_lock);
  ts.next = g_registry;
  if (g_registry != nullptr) g_registry->prev = &ts;
  g_registry = &ts;
#if defined(SPOOL_ALLOC_STATS)
  ts.hits = tls_hits;
#endif
  ts.registered = true;
}

bool learning() noexcept { return option(Option::learner) != 0; }

// One refill in kEventSample becomes an event: an unbiased sample keeps the
// learner well under 1 % of a core and the ring from overflowing when threads
// churn (every thread start refills every class it touches).
constexpr std::uint32_t kEventSample = 16;
bool sampled(ThreadState& ts) noexcept { return ++ts.sample % kEventSample == 0; }

// Gives the whole list of every class back to the backend. A batch that never
// ran dry is reported too (with how much of it was left), or the learner
// would only ever hear about batches that were too small.
void flush_lists(ThreadState& ts) noexcept {
  const std::uint64_t now = now_ns();
  for (unsigned cls = 0; cls < kClassCount; ++cls) {
    void* head = nullptr;
    void* tail = nullptr;
    const std::uint32_t n = detach_chain(cls, 0xFFFF'FFFFU, &head, &tail);
    if (ts.last_refill_ns[cls] != 0 && ts.last_count[cls] != 0 && learning() && sampled(ts)) {
      RefillEvent ev{};
      ev.cls = static_cast<std::uint8_t>(cls);
      ev.flags = kEventFinal;
      ev.count = static_cast<std::uint16_t>(ts.last_count[cls]);
      ev.unused = static_cast<std::uint16_t>(n < ts.last_count[cls] ? n : ts.last_count[cls]);
      ev.since_last_ns = now - ts.last_refill_ns[cls];
      push_event(ev);
    }
    if (n != 0) {
      backend_give(cls, head, tail, n);
      bump(g_counters[cls].flushes);
    }
    set_room(cls, 0);
    ts.cap[cls] = 0;
    ts.last_refill_ns[cls] = 0;
  }
}

void thread_exit(void*) noexcept {
  ThreadState& ts = tls_state;
  flush_lists(ts);
  SpinGuard g(g_registry_lock);
#if defined(SPOOL_ALLOC_STATS)
  for (unsigned c = 0; c < kClassCount; ++c) {
    g_dead_hits[c] += tls_hits[c].load(std::memory_order_relaxed);
    tls_hits[c].store(0, std::memory_order_relaxed);
  }
#endif
  unregister_locked(ts);
  ts.registered = false;  // a later allocation in this thread registers again
}

void fork_prepare() noexcept {
  g_key_lock.lock();
  g_registry_lock.lock();
  backend_fork_prepare();
}
void fork_parent() noexcept {
  backend_fork_parent();
  g_registry_lock.unlock();
  g_key_lock.unlock();
}
void fork_child() noexcept {
  backend_fork_child();
  g_registry_lock.reset();
  g_key_lock.reset();
  // Only the forking thread survives; the others' lists are lost (like every
  // thread-caching allocator) but nothing refers to their state any more.
  ThreadState& ts = tls_state;
  g_registry = ts.registered ? &ts : nullptr;
  ts.prev = ts.next = nullptr;
  learner_after_fork_child();
}

void at_exit() noexcept {
  learner_stop();
  if (option(Option::print_stats) != 0) print_report(2);
}

// Process init: runs before main (static library or LD_PRELOAD shim); never
// from inside malloc, so registering handlers cannot recurse.
__attribute__((constructor)) void process_init() noexcept {
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  std::atexit(at_exit);
  learner_allow_start();
}

}  // namespace

void count_miss(unsigned cls) noexcept { bump(g_counters[cls].misses); }

std::uint32_t effective_refill_count(unsigned cls) noexcept {
  const long fixed = option(Option::refill);
  const std::uint32_t want = fixed > 0 ? static_cast<std::uint32_t>(fixed) : refill_count(cls);
  const long kib = option(Option::max_batch_kib);
  const std::size_t max_bytes = static_cast<std::size_t>(kib > 0 ? kib : 1) * 1024;
  return clamp_u32(want, 1, max_bytes / class_size(cls) > 0 ? max_bytes / class_size(cls) : 1);
}

void* refill_and_alloc(unsigned cls) noexcept {
  ThreadState& ts = tls_state;
  ensure_registered();
  if (ts.cap[cls] == 0) ts.cap[cls] = cap_for(cls);
  std::uint32_t want = effective_refill_count(cls);
  if (want > ts.cap[cls]) want = ts.cap[cls];
  const Chain c = backend_take(cls, want);
  if (c.n == 0) return nullptr;
  void* first = c.head;
  set_room(cls, static_cast<std::int32_t>(ts.cap[cls]));
  install_chain(cls, load_next(first), c.n - 1);
  bump(g_counters[cls].refills);
  bump(g_counters[cls].refilled_blocks, c.n);

  // Tell the learner how long the previous batch lasted (copied, on the stack).
  const std::uint64_t now = now_ns();
  const std::uint64_t since = ts.last_refill_ns[cls] != 0 ? now - ts.last_refill_ns[cls] : 0;
  const long target_us = option(Option::learn_target_us);
  const std::uint64_t target = static_cast<std::uint64_t>(target_us > 0 ? target_us : 1) * 1000;
  ts.streak[cls] = (since != 0 && since < target) ? ts.streak[cls] + 1 : 0;
  if (learning() && sampled(ts)) {
    RefillEvent ev{};
    ev.cls = static_cast<std::uint8_t>(cls);
    ev.count = static_cast<std::uint16_t>(ts.last_count[cls]);
    ev.miss_streak = static_cast<std::uint16_t>(ts.streak[cls] < 0xFFFF ? ts.streak[cls] : 0xFFFF);
    ev.since_last_ns = since;
    push_event(ev);
  }
  ts.last_refill_ns[cls] = now;
  ts.last_count[cls] = c.n;

  learner_maybe_start();  // no lock held here
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
  ThreadState& ts = tls_state;
  ensure_registered();
  if (ts.cap[cls] == 0) {  // first free of this class by this thread: list is empty
    ts.cap[cls] = cap_for(cls);
    set_room(cls, static_cast<std::int32_t>(ts.cap[cls]));
  } else {  // at the cap: return half to the backend
    void* head = nullptr;
    void* tail = nullptr;
    const std::uint32_t n = detach_chain(cls, ts.cap[cls] / 2, &head, &tail);
    backend_give(cls, head, tail, n);
    bump(g_counters[cls].flushes);
  }
  close_block(cls, p);
  push(cls, p);
  set_room(cls, room(cls) - 1);
}

void flush_all_lists() noexcept { flush_lists(tls_state); }

RefillCounters refill_counters(unsigned cls) noexcept {
  const ClassCounters& c = g_counters[cls];
  return {c.misses.load(std::memory_order_relaxed), c.refills.load(std::memory_order_relaxed),
          c.refilled_blocks.load(std::memory_order_relaxed),
          c.flushes.load(std::memory_order_relaxed)};
}

void merged_hits(std::uint64_t (&out)[kClassCount]) noexcept {
  for (auto& o : out) o = 0;
#if defined(SPOOL_ALLOC_STATS)
  SpinGuard g(g_registry_lock);
  for (unsigned c = 0; c < kClassCount; ++c) out[c] = g_dead_hits[c];
  for (ThreadState* ts = g_registry; ts != nullptr; ts = ts->next) {
    for (unsigned c = 0; c < kClassCount; ++c) {
      out[c] += ts->hits[c].load(std::memory_order_relaxed);
    }
  }
#endif
}

}  // namespace spool::alloc::detail
