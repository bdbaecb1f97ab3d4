// The retention budget (part of Box 2): how many bytes of free medium blocks
// (depot chains of classes >= kReleaseFrom) and of cached large mappings the
// allocator keeps in RAM, across all classes. Past SPOOL_ALLOC_RETAIN_KIB the
// oldest are given back to the OS; anything unused for SPOOL_ALLOC_DECAY_MS
// is given back too, at the next allocator call or by the background thread
// when the process is idle (backend_idle_release).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "option_fast.hpp"

namespace spool::alloc::detail {

inline constinit std::atomic<std::int64_t> g_retained_bytes{0};

inline std::int64_t retention_limit() noexcept {
  const long kib = option_fast(Option::retain_kib);
  return static_cast<std::int64_t>(kib > 0 ? kib : 0) * 1024;
}
inline bool retention_fits(std::size_t n) noexcept {
  return g_retained_bytes.load(std::memory_order_relaxed) + static_cast<std::int64_t>(n) <=
         retention_limit();
}
inline bool retention_over() noexcept {
  return g_retained_bytes.load(std::memory_order_relaxed) > retention_limit();
}
inline void retention_add(std::size_t n) noexcept {
  g_retained_bytes.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
}
inline void retention_sub(std::size_t n) noexcept {
  g_retained_bytes.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
}
inline std::uint64_t retention_decay_ms() noexcept {
  const long ms = option_fast(Option::decay_ms);
  return static_cast<std::uint64_t>(ms > 0 ? ms : 0);
}

}  // namespace spool::alloc::detail
