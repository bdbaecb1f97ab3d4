// The stress run of stress_core.hpp through plain malloc/free, for ctest to
// run under LD_PRELOAD of libspool_malloc.so. Usage:
//   alloc_stress_program [threads rounds steps seed]
// Prints the counts; exits 1 on any corruption, misalignment, failure or leak.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>

#include "stress_core.hpp"

namespace {
void* aligned(std::size_t alignment, std::size_t size) {
  void* p = nullptr;
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}
}  // namespace

int main(int argc, char** argv) {
  spool::alloc::test::StressConfig cfg;
  if (argc > 1) cfg.threads = std::atoi(argv[1]);
  if (argc > 2) cfg.rounds = std::atoi(argv[2]);
  if (argc > 3) cfg.steps = std::atoi(argv[3]);
  if (argc > 4) cfg.seed = std::strtoull(argv[4], nullptr, 10);
  if (cfg.threads < 1 || cfg.rounds < 1 || cfg.steps < 1) {
    std::fprintf(stderr, "usage: %s [threads>=1 rounds>=1 steps>=1 seed]\n", argv[0]);
    return 2;
  }
  const spool::alloc::test::StressApi api{std::malloc, std::calloc, std::realloc, aligned, std::free};
  const auto r = spool::alloc::test::run_stress(api, cfg);
  // The pool rounds 100 up to its 112-byte class; glibc would report 104.
  void* probe = std::malloc(100);
  const std::size_t usable = malloc_usable_size(probe);
  std::free(probe);
  std::printf("stress: %llu allocations, %llu frees, %llu corrupt, %llu misaligned, %llu failed, "
              "malloc_usable_size(100) = %zu\n",
              static_cast<unsigned long long>(r.allocations), static_cast<unsigned long long>(r.frees),
              static_cast<unsigned long long>(r.corrupt), static_cast<unsigned long long>(r.misaligned),
              static_cast<unsigned long long>(r.failed), usable);
  const bool ok = r.corrupt == 0 && r.misaligned == 0 && r.failed == 0 && r.allocations == r.frees;
  std::puts(ok ? "stress: ok" : "stress: FAILED");
  return ok ? 0 : 1;
}
