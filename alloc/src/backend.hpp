// Shared backend (part of Box 2): 4 MiB segments carved into blocks, one
// depot of free chains per class, and one OS mapping per large allocation.
// Every function here is a slow path; the depot is guarded by a lock per class.
#pragma once

#include <cstddef>
#include <cstdint>

namespace spool::alloc::detail {

struct Chain {
  void* head = nullptr;  // terminated by nullptr
  std::uint32_t n = 0;
};

// Up to `want` free blocks of class cls (n may be larger than want by at
// most half when a depot chain is not split); n == 0 when the OS refuses memory.
Chain backend_take(unsigned cls, std::uint32_t want) noexcept;
// Gives back n blocks head..tail of class cls (tail's next is overwritten).
void backend_give(unsigned cls, void* head, void* tail, std::uint32_t n) noexcept;

// Large allocations: own mapping; alignment <= kMaxAlignment.
inline constexpr std::size_t kMaxAlignment = std::size_t{1} << 20;
void* large_alloc(std::size_t size, std::size_t alignment) noexcept;
void large_free(void* p) noexcept;
std::size_t large_usable(const void* p) noexcept;

// True when p lies in a segment or large mapping this allocator created.
bool segment_registered(const void* p) noexcept;

struct BackendClassCounters {
  std::uint64_t carved_blocks = 0;
  std::uint64_t depot_blocks = 0;
};
BackendClassCounters backend_class_counters(unsigned cls) noexcept;
std::uint64_t backend_segments() noexcept;
std::uint64_t backend_large_allocs() noexcept;
std::uint64_t backend_large_bytes_live() noexcept;

// Fork: take every backend lock before fork, release them after (both sides).
void backend_fork_prepare() noexcept;
void backend_fork_parent() noexcept;
void backend_fork_child() noexcept;

// Writes "spool alloc: <what> <p>" to stderr and aborts.
[[noreturn]] void fatal(const char* what, const void* p) noexcept;

}  // namespace spool::alloc::detail
