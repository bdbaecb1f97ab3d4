// The option table's values, for the refill engine: option_fast() is
// option() inlined for a value already read (a load and a test instead of
// a call per read; a refill reads four or five options). The first read of
// each option still goes through option(), which parses the environment.
#pragma once

#include <atomic>

#include "spool/alloc/detail/config.hpp"
#include "spool/alloc/options.hpp"

namespace spool::alloc::detail {

inline constexpr unsigned kOptionCount = static_cast<unsigned>(Option::count_);
// Defined in options.cpp; written only by option() and set_option().
extern constinit std::atomic<long> g_option_values[kOptionCount];
extern constinit std::atomic<bool> g_option_loaded[kOptionCount];

inline long option_fast(Option o) noexcept {
  const auto i = static_cast<unsigned>(o);
  if (SPOOL_ALLOC_LIKELY(g_option_loaded[i].load(std::memory_order_acquire))) {
    return g_option_values[i].load(std::memory_order_relaxed);
  }
  return option(o);
}

}  // namespace spool::alloc::detail
