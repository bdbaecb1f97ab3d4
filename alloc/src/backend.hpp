// Shared backend (part of Box 2): 4 MiB segments carved into blocks, one
// depot of free chains per class (backend.cpp), one OS mapping per large
// allocation with a small reuse cache (large.cpp), the retention budget
// (retention.hpp) and the OS seam (os.hpp). Every function here is a slow
// path; each depot has its own lock.
#pragma once

#include <cstddef>
#include <cstdint>

namespace spool::alloc::detail {

struct Chain {
  void* head = nullptr;  // terminated by nullptr
  std::uint32_t n = 0;
};

// Classes from this size on have page-multiple blocks whose pages can be
// given back to the OS while they sit in the depot.
inline constexpr std::size_t kReleaseFrom = 32 * 1024;

// Up to `want` free blocks of class cls (n may be larger than want by at
// most half when a depot chain is not split); n == 0 when the OS refuses memory.
Chain backend_take(unsigned cls, std::uint32_t want) noexcept;
// Gives back n blocks head..tail of class cls (tail's next is overwritten).
void backend_give(unsigned cls, void* head, void* tail, std::uint32_t n) noexcept;
// Gives back k chains at once (one lock), each its own depot entry, so that
// a refill can take one whole instead of walking a long chain to split it.
struct Piece {
  void* head;
  void* tail;
  std::uint32_t n;
};
void backend_give_pieces(unsigned cls, const Piece* pieces, unsigned k) noexcept;
// Releases what the retention rules say is due (decayed medium chains, old
// cached large mappings) without waiting for any lock held elsewhere. Called
// by the background thread when the process is idle.
void backend_idle_release() noexcept;

// Large allocations: own mapping; alignment <= kMaxAlignment.
inline constexpr std::size_t kMaxAlignment = std::size_t{1} << 20;
void* large_alloc(std::size_t size, std::size_t alignment) noexcept;
void large_free(void* p) noexcept;
std::size_t large_usable(const void* p) noexcept;
// True when p's mapping came from the reuse cache (its pages are not zero).
bool large_recycled(const void* p) noexcept;
// Unmaps cached mappings unused for max_age_ms (0: all of them).
void large_cache_trim(std::uint64_t max_age_ms) noexcept;
// Unmaps the oldest cached mappings while the retention budget is exceeded
// (does nothing when another thread holds the cache's lock).
void large_cache_shrink() noexcept;

// True when p lies in a segment or large mapping this allocator created.
bool segment_registered(const void* p) noexcept;

struct BackendClassCounters {
  std::uint64_t carved_blocks = 0;
  std::uint64_t depot_blocks = 0;
  std::uint64_t released_blocks = 0;  // pages given back to the OS (cumulative)
};
BackendClassCounters backend_class_counters(unsigned cls) noexcept;
std::uint64_t backend_segments() noexcept;
std::uint64_t backend_large_allocs() noexcept;
std::uint64_t backend_large_bytes_live() noexcept;
std::uint64_t backend_retained_bytes() noexcept;  // free memory kept resident (budgeted part)

// Fork: take every backend lock before fork, release them after (both sides).
void backend_fork_prepare() noexcept;
void backend_fork_parent() noexcept;
void backend_fork_child() noexcept;
void large_fork_prepare() noexcept;
void large_fork_parent() noexcept;
void large_fork_child() noexcept;

// Writes "spool alloc: <what> <p>" to stderr and aborts.
[[noreturn]] void fatal(const char* what, const void* p) noexcept;

}  // namespace spool::alloc::detail
