// The shared backend's pooled half: per-class depots of free chains in front
// of 4 MiB segments carved into blocks. A depot is a lock-protected stack of
// chains (newest on top), each taken whole by a refill in O(1). Its table
// grows (mmap, doubling) so that every flushed piece stays a chain of its
// own: splicing pieces together when the table was full made long chains
// that the next refills had to split by walking cold blocks under the lock
// (the xmalloc pattern with a 16 K-block population spent 27 % of the
// producer's time there). Chains of medium classes (>= kReleaseFrom, whose
// blocks are whole pages) are "hot" while their pages are resident; the
// retention budget (retention.hpp) decides when the oldest hot chains give
// their pages back (every page but a block's first, which holds the chain
// link). A chain is wholly hot or wholly released, so the hot byte count is
// exact.
#include "backend.hpp"

#include <atomic>

#include "os.hpp"
#include "retention.hpp"
#include "spinlock.hpp"
#include "spool/alloc/detail/block.hpp"
#include "spool/alloc/detail/segment.hpp"
#include "spool/alloc/size_class.hpp"

namespace spool::alloc::detail {
namespace {

// Chains per class: the table starts at kFirstChains entries when first
// needed and doubles up to kMaxChains (2 MiB of table); past that, pieces
// are spliced onto the top chain. Medium classes, whose chains the retention
// budget scans on every give, keep the first table.
constexpr unsigned kInlineChains = 8;
constexpr unsigned kFirstChains = 256;
constexpr unsigned kMaxChains = 1U << 16;

struct DepotChain {
  void* head;
  void* tail;
  std::uint32_t n;
  bool hot;            // pages resident (always true below kReleaseFrom)
  std::uint64_t stamp_ms;  // when it was given to the depot
};

struct alignas(64) ClassDepot {
  SpinLock lock;
  unsigned nchains = 0;
  unsigned cap = 0;                 // entries in `mapped` (0: none mapped yet)
  DepotChain* mapped = nullptr;     // the table once grow_table mapped one
  DepotChain first[kInlineChains] = {};  // the table before that (or if the OS refuses)
  char* bump = nullptr;  // carve cursor in the class's current segment
  char* end = nullptr;
  // Written under the lock (load + store), read by stats() without it.
  std::atomic<std::uint64_t> carved{0};
  std::atomic<std::uint64_t> depot{0};
  std::atomic<std::uint64_t> released{0};  // blocks whose pages went back to the OS
};

constinit ClassDepot g_depots[kClassCount];
constinit std::atomic<std::uint64_t> g_segments{0};

// The depot's chain table and how many entries it has room for.
DepotChain* table(ClassDepot& d) noexcept { return d.mapped != nullptr ? d.mapped : d.first; }
unsigned table_size(const ClassDepot& d) noexcept { return d.mapped != nullptr ? d.cap : kInlineChains; }

void add(std::atomic<std::uint64_t>& c, std::int64_t d) noexcept {
  c.store(c.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(d),
          std::memory_order_relaxed);
}

bool releasable(unsigned cls) noexcept { return class_size(cls) >= kReleaseFrom; }

// Gives back the pages of every block of a hot chain but the first page of
// each (lock held); the chain stays in the depot, cold.
void release_chain(ClassDepot& d, unsigned cls, DepotChain& c) noexcept {
  const std::size_t size = class_size(cls);
  const std::size_t ps = page_size();
  for (void* b = c.head;;) {
    release(static_cast<char*>(b) + ps, size - ps);
    if (b == c.tail) break;
    b = load_next(b);
  }
  c.hot = false;
  retention_sub(std::size_t{c.n} * size);
  add(d.released, c.n);
}

// Releases hot chains of this class, oldest first, while the budget is
// exceeded, and every hot chain older than the decay time (lock held).
void enforce_retention(ClassDepot& d, unsigned cls, std::uint64_t now) noexcept {
  const std::uint64_t decay = retention_decay_ms();
  for (unsigned i = 0; i < d.nchains; ++i) {
    DepotChain& c = table(d)[i];
    if (!c.hot) continue;
    if (retention_over() || now - c.stamp_ms >= decay) release_chain(d, cls, c);
  }
}

// Still over the budget after releasing this class's chains: release the
// oldest hot chains of the other medium classes, skipping any whose lock is
// taken (never waits, so no lock order to respect).
void enforce_budget_elsewhere(unsigned except) noexcept {
  for (unsigned cls = kClassCount; cls-- > 0 && retention_over();) {
    if (cls == except || !releasable(cls)) continue;
    ClassDepot& d = g_depots[cls];
    if (d.depot.load(std::memory_order_relaxed) == 0 || !d.lock.try_lock()) continue;
    for (unsigned i = 0; i < d.nchains && retention_over(); ++i) {
      if (table(d)[i].hot) release_chain(d, cls, table(d)[i]);
    }
    d.lock.unlock();
  }
  if (retention_over()) large_cache_shrink();
}

// Carves up to want blocks from the class's current segment (lock held).
Chain carve(ClassDepot& d, unsigned cls, std::uint32_t want) noexcept {
  const std::size_t size = class_size(cls);
  if (d.bump == nullptr || static_cast<std::size_t>(d.end - d.bump) < size) {
    char* seg = map_aligned(kSegmentSize);
    if (seg == nullptr) return {};
    init_header(seg, cls, kSegmentSize, kSegmentHeader);
    g_segments.fetch_add(1, std::memory_order_relaxed);
    d.bump = seg + kSegmentHeader;
    d.end = seg + kSegmentSize;
  }
  const std::size_t avail = static_cast<std::size_t>(d.end - d.bump) / size;
  const std::uint32_t n = avail < want ? static_cast<std::uint32_t>(avail) : want;
  char* first = d.bump;
  poison(first, std::size_t{n} * size);
  for (std::uint32_t i = 0; i + 1 < n; ++i) store_next(first + i * size, first + (i + 1) * size);
  store_next(first + (n - 1) * size, nullptr);
  d.bump += std::size_t{n} * size;
  add(d.carved, n);
  return {first, n};
}

// Takes chain c off the depot's books (lock held).
void took(ClassDepot& d, unsigned cls, const DepotChain& c) noexcept {
  add(d.depot, -static_cast<std::int64_t>(c.n));
  if (c.hot && releasable(cls)) retention_sub(std::size_t{c.n} * class_size(cls));
}

}  // namespace

Chain backend_take(unsigned cls, std::uint32_t want) noexcept {
  ClassDepot& d = g_depots[cls];
  if (want == 0) want = 1;
  SpinGuard g(d.lock);
  if (d.nchains == 0) return carve(d, cls, want);
  DepotChain c = table(d)[--d.nchains];
  if (c.n > want + want / 2) {  // too long: split off `want` blocks
    void* t = c.head;
    for (std::uint32_t i = 1; i < want; ++i) t = load_next(t);
    void* rest = load_next(t);
    store_next(t, nullptr);
    table(d)[d.nchains++] = DepotChain{rest, c.tail, c.n - want, c.hot, c.stamp_ms};
    c.n = want;
    took(d, cls, c);
    return {c.head, c.n};
  }
  // Whole; then more whole chains (a flush's pieces) while they fit in want.
  took(d, cls, c);
  Chain out{c.head, c.n};
  void* tail = c.tail;
  while (d.nchains > 0 && out.n + table(d)[d.nchains - 1].n <= want) {
    const DepotChain& more = table(d)[--d.nchains];
    took(d, cls, more);
    store_next(tail, more.head);
    tail = more.tail;
    out.n += more.n;
  }
  store_next(tail, nullptr);
  return out;
}

namespace {

// Doubles the class's chain table (lock held; a system call, taken a few
// times per class at most). False when it may not grow or the OS refuses.
bool grow_table(ClassDepot& d, unsigned cls) noexcept {
  const unsigned limit = releasable(cls) ? kFirstChains : kMaxChains;
  if (d.cap >= limit) return false;
  const unsigned cap = d.cap == 0 ? kFirstChains : d.cap * 2;
  auto* t = static_cast<DepotChain*>(map_pages(std::size_t{cap} * sizeof(DepotChain)));
  if (t == nullptr) return false;
  const DepotChain* old = table(d);
  for (unsigned i = 0; i < d.nchains; ++i) t[i] = old[i];
  if (d.mapped != nullptr) unmap(d.mapped, std::size_t{d.cap} * sizeof(DepotChain));
  d.mapped = t;
  d.cap = cap;
  return true;
}

// Puts one chain on the depot (lock held).
void give_locked(ClassDepot& d, unsigned cls, void* head, void* tail, std::uint32_t n,
                 bool rel, std::uint64_t now) noexcept {
  DepotChain c{head, tail, n, true, now};
  if (rel) retention_add(std::size_t{n} * class_size(cls));
  if (d.nchains == table_size(d) && !grow_table(d, cls)) {
    // Full: splice onto the newest chain in the same state (release the new
    // chain first when every chain is cold).
    unsigned i = d.nchains;
    while (i > 0 && !table(d)[i - 1].hot) --i;
    if (i == 0) {
      release_chain(d, cls, c);
      i = d.nchains;
    }
    DepotChain& onto = table(d)[i - 1];
    store_next(tail, onto.head);
    onto.head = head;
    onto.n += n;
    onto.stamp_ms = now;
  } else {
    table(d)[d.nchains++] = c;
  }
  add(d.depot, n);
}

}  // namespace

void backend_give_pieces(unsigned cls, const Piece* pieces, unsigned k) noexcept {
  if (k == 0) return;
  ClassDepot& d = g_depots[cls];
  const bool rel = releasable(cls);
  const std::uint64_t now = rel ? now_ms() : 0;
  SpinGuard g(d.lock);
  for (unsigned i = 0; i < k; ++i) {
    if (pieces[i].n != 0) give_locked(d, cls, pieces[i].head, pieces[i].tail, pieces[i].n, rel, now);
  }
  if (rel) {
    enforce_retention(d, cls, now);
    if (retention_over()) enforce_budget_elsewhere(cls);
  }
}

void backend_give(unsigned cls, void* head, void* tail, std::uint32_t n) noexcept {
  const Piece p{head, tail, n};
  backend_give_pieces(cls, &p, 1);
}

void backend_idle_release() noexcept {
  const std::uint64_t now = now_ms();
  for (unsigned cls = 0; cls < kClassCount; ++cls) {
    if (!releasable(cls)) continue;
    ClassDepot& d = g_depots[cls];
    if (d.depot.load(std::memory_order_relaxed) == 0 || !d.lock.try_lock()) continue;
    enforce_retention(d, cls, now);
    d.lock.unlock();
  }
  large_cache_trim(retention_decay_ms());
}

BackendClassCounters backend_class_counters(unsigned cls) noexcept {
  const ClassDepot& d = g_depots[cls];
  return {d.carved.load(std::memory_order_relaxed), d.depot.load(std::memory_order_relaxed),
          d.released.load(std::memory_order_relaxed)};
}
std::uint64_t backend_segments() noexcept { return g_segments.load(std::memory_order_relaxed); }
std::uint64_t backend_retained_bytes() noexcept {
  const std::int64_t r = g_retained_bytes.load(std::memory_order_relaxed);
  return r > 0 ? static_cast<std::uint64_t>(r) : 0;
}

void backend_fork_prepare() noexcept {
  for (auto& d : g_depots) d.lock.lock();
  large_fork_prepare();
}
void backend_fork_parent() noexcept {
  large_fork_parent();
  for (auto& d : g_depots) d.lock.unlock();
}
void backend_fork_child() noexcept {
  large_fork_child();
  for (auto& d : g_depots) d.lock.reset();
}

}  // namespace spool::alloc::detail
