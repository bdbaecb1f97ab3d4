// Random-mixed (the seed checklist's bench_random_mixed): one thread, 8192
// slots; each step picks a slot, frees its block if it holds one, else
// allocates 16..1040 bytes into it. One operation = one step.
#include <cstdlib>
#include <vector>

#include "../workload.hpp"

namespace spool::bench {

Result random_mixed(const Params& p) {
  constexpr std::size_t kSlots = 8192;
  const std::uint64_t steps = scaled(30'000'000, p.scale);
  std::vector<void*> slot(kSlots, nullptr);
  Rng r(p.seed);
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < steps; ++i) {
    void*& s = slot[r.below(kSlots)];
    if (s != nullptr) {
      std::free(s);
      s = nullptr;
    } else {
      const std::size_t n = 16 + r.below(1025);
      s = touch(std::malloc(n), n);
    }
  }
  Result res;
  res.seconds = seconds_since(t0);
  res.ops = static_cast<double>(steps);
  for (void* s : slot) std::free(s);
  return res;
}

}  // namespace spool::bench
