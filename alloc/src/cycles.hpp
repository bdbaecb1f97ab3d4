// A cheap monotonic cycle counter for the refill engine's observation
// windows (only ratios of two readings are used, so its rate does not
// matter): the TSC on x86-64, the virtual counter on AArch64, the monotonic
// clock in nanoseconds elsewhere.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#include <time.h>
#endif

namespace spool::alloc::detail {

inline std::uint64_t cycles() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#elif defined(__aarch64__)
  std::uint64_t v;
  asm volatile("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
#endif
}

}  // namespace spool::alloc::detail
