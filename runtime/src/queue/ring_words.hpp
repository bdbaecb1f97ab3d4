// Host access to ring words shared with a running kernel: acquire loads and
// release stores (internal to the queue engine).
#pragma once

#include <atomic>
#include <cstdint>

#include "spool/backend/ring_abi.h"

namespace spool::backend::ring {

inline std::uint32_t load(std::uint32_t* w) noexcept {
  return std::atomic_ref<std::uint32_t>(*w).load(std::memory_order_acquire);
}
inline void store(std::uint32_t* w, std::uint32_t v) noexcept {
  std::atomic_ref<std::uint32_t>(*w).store(v, std::memory_order_release);
}
constexpr std::uint32_t tag(std::uint32_t seq) noexcept { return SPOOL_RING_TAG(seq); }

}  // namespace spool::backend::ring
