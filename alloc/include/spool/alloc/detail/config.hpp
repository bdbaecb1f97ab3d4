// Compile-time switches of the allocator (all set by alloc/CMakeLists.txt):
//   SPOOL_ALLOC_STATS        per-thread hit counters on the hot path (off by default)
//   SPOOL_ALLOC_CHECKS       validate frees: foreign pointer, interior pointer,
//                            double free (on in Debug and sanitizer builds)
//   SPOOL_ALLOC_VALGRIND     Valgrind client requests on every alloc/free
//   SPOOL_ALLOC_ASAN_BUILD   the library was built with AddressSanitizer
//   SPOOL_ALLOC_TLS_INITIAL_EXEC  initial-exec TLS for the hot path, needed
//                            when the allocator is linked into a shared object
//                            (the LD_PRELOAD shim; CMake option
//                            SPOOL_ALLOC_TLS_MODEL=initial-exec). The default,
//                            local-exec, is valid in executables only and saves
//                            one instruction (the TLS offset load) per call.
#pragma once

#if defined(SPOOL_ALLOC_TLS_INITIAL_EXEC)
#define SPOOL_ALLOC_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define SPOOL_ALLOC_TLS_MODEL __attribute__((tls_model("local-exec")))
#endif

// SPOOL_ALLOC_ASAN_BUILD: the library itself was built with ASan (set on the
// target's interface), so a TU compiled without -fsanitize must still keep
// the poisoning consistent. The ASAN_* macros are no-ops in such a TU; the
// interface functions are called directly.
#if defined(__SANITIZE_ADDRESS__) || defined(SPOOL_ALLOC_ASAN_BUILD)
#define SPOOL_ALLOC_ASAN 1
#include <sanitizer/asan_interface.h>
#endif

#if defined(SPOOL_ALLOC_VALGRIND) && __has_include(<valgrind/memcheck.h>)
#define SPOOL_ALLOC_USE_VALGRIND 1
#include <valgrind/memcheck.h>
#endif

#define SPOOL_ALLOC_LIKELY(x) __builtin_expect(!!(x), 1)
#define SPOOL_ALLOC_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace spool::alloc::detail {
#if defined(SPOOL_ALLOC_CHECKS)
inline constexpr bool kChecks = true;
#else
inline constexpr bool kChecks = false;
#endif
#if defined(SPOOL_ALLOC_STATS)
inline constexpr bool kStats = true;
#else
inline constexpr bool kStats = false;
#endif
}  // namespace spool::alloc::detail
