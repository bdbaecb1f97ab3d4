// Thread and process life cycle of the allocator (part of Box 2): the
// registry of live threads (for stats), the exit flush (a pthread_key
// destructor), fork handlers and process initialisation.
#include <pthread.h>

#include <atomic>
#include <cstdlib>

#include "backend.hpp"
#include "learner_api.hpp"
#include "refill.hpp"
#include "spinlock.hpp"
#include "spool/alloc/detail/tls_cache.hpp"
#include "spool/alloc/options.hpp"
#include "spool/alloc/stats.hpp"
#include "thread_state.hpp"

namespace spool::alloc::detail {

// Box 1's thread-local lists (declared in tls_cache.hpp).
constinit thread_local void* tls_head[kListSlots] SPOOL_ALLOC_TLS_MODEL = {};
constinit thread_local std::int32_t tls_room[kListSlots] SPOOL_ALLOC_TLS_MODEL = {};
#if defined(SPOOL_ALLOC_STATS)
constinit thread_local std::atomic<std::uint64_t> tls_hits[kClassCount] SPOOL_ALLOC_TLS_MODEL = {};
#endif
constinit thread_local ThreadState tls_state SPOOL_ALLOC_TLS_MODEL{};

namespace {

struct DeadTotals {  // counters of threads that have exited (under g_registry_lock)
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t refills = 0;
  std::uint64_t refilled_blocks = 0;
  std::uint64_t flushes = 0;
};

constinit SpinLock g_registry_lock;
constinit ThreadState* g_registry = nullptr;
constinit DeadTotals g_dead[kClassCount];
constinit SpinLock g_key_lock;
constinit std::atomic<bool> g_key_ready{false};
pthread_key_t g_key;

void thread_exit(void*) noexcept;

void unregister_locked(ThreadState& ts) noexcept {
  if (ts.prev != nullptr) ts.prev->next = ts.next;
  if (ts.next != nullptr) ts.next->prev = ts.prev;
  if (g_registry == &ts) g_registry = ts.next;
  ts.prev = ts.next = nullptr;
}

std::uint64_t take(std::atomic<std::uint64_t>& c) noexcept {
  const std::uint64_t v = c.load(std::memory_order_relaxed);
  c.store(0, std::memory_order_relaxed);
  return v;
}

void thread_exit(void*) noexcept {
  ThreadState& ts = tls_state;
  flush_lists(ts, true);
  SpinGuard g(g_registry_lock);
  for (unsigned c = 0; c < kClassCount; ++c) {
    DeadTotals& d = g_dead[c];
#if defined(SPOOL_ALLOC_STATS)
    d.hits += take(tls_hits[c]);
#endif
    d.misses += take(ts.ctr[c].misses);
    d.refills += take(ts.ctr[c].refills);
    d.refilled_blocks += take(ts.ctr[c].refilled_blocks);
    d.flushes += take(ts.ctr[c].flushes);
  }
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
  learner_set_idle_hook(backend_idle_release);
  learner_allow_start();
}

}  // namespace

void ensure_registered() noexcept {
  ThreadState& ts = tls_state;
  if (SPOOL_ALLOC_LIKELY(ts.registered)) return;
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

void merged_counters(RefillCounters (&out)[kClassCount], std::uint64_t (&hits)[kClassCount]) noexcept {
  SpinGuard g(g_registry_lock);
  for (unsigned c = 0; c < kClassCount; ++c) {
    const DeadTotals& d = g_dead[c];
    out[c] = RefillCounters{d.misses, d.refills, d.refilled_blocks, d.flushes};
    hits[c] = d.hits;
  }
  for (ThreadState* ts = g_registry; ts != nullptr; ts = ts->next) {
    for (unsigned c = 0; c < kClassCount; ++c) {
      const ThreadCounters& t = ts->ctr[c];
      out[c].misses += t.misses.load(std::memory_order_relaxed);
      out[c].refills += t.refills.load(std::memory_order_relaxed);
      out[c].refilled_blocks += t.refilled_blocks.load(std::memory_order_relaxed);
      out[c].flushes += t.flushes.load(std::memory_order_relaxed);
#if defined(SPOOL_ALLOC_STATS)
      if (ts->hits != nullptr) hits[c] += ts->hits[c].load(std::memory_order_relaxed);
#endif
    }
  }
}

}  // namespace spool::alloc::detail
