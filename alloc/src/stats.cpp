// Diagnostics: merges the per-class counters of Box 2, the backend and the
// per-thread hit counters of Box 1 on demand; the report is formatted into a
// stack buffer and written with write(2) (no allocation: usable at exit from
// the malloc shim).
#include "spool/alloc/stats.hpp"

#include <unistd.h>

#include <cstdio>

#include "backend.hpp"
#include "learner_api.hpp"
#include "refill.hpp"
#include "spool/alloc/detail/config.hpp"

namespace spool::alloc {

Stats stats() noexcept {
  Stats s;
  s.hits_tracked = detail::kStats;
  std::uint64_t hits[kClassCount];
  detail::RefillCounters counters[kClassCount];
  detail::merged_counters(counters, hits);
  for (unsigned c = 0; c < kClassCount; ++c) {
    const auto& r = counters[c];
    const auto b = detail::backend_class_counters(c);
    ClassStats& cs = s.classes[c];
    cs.hits = hits[c];
    cs.misses = r.misses;
    cs.refills = r.refills;
    cs.refilled_blocks = r.refilled_blocks;
    cs.flushes = r.flushes;
    cs.bytes_retained = b.carved_blocks * class_size(c);
    cs.depot_blocks = b.depot_blocks;
    cs.released_blocks = b.released_blocks;
    cs.refill_count = detail::effective_refill_count(c);
    cs.learner_state = static_cast<std::uint8_t>(detail::learner_class_state(c));
  }
  s.retained_free_bytes = detail::backend_retained_bytes();
  s.large_allocs = detail::backend_large_allocs();
  s.large_bytes_live = detail::backend_large_bytes_live();
  s.segments = detail::backend_segments();
  const auto l = detail::learner_counters();
  s.learner_running = l.running;
  s.events_pushed = l.pushed;
  s.events_dropped = l.dropped;
  s.events_consumed = l.consumed;
  s.learner_decisions = l.decisions;
  s.learner_stand_downs = l.stand_downs;
  s.learner_stood_down = l.stood_down_now;
  s.learner_watching = l.watching_now;
  s.learner_classes = l.classes_learning;
  s.learner_cpu_ns = l.cpu_ns;
  s.learner_wall_ns = l.wall_ns;
  return s;
}

namespace {

template <class Sink>
void format_report(const Stats& s, Sink&& sink) {
  char line[256];
  auto emit = [&](int n) {
    if (n > 0) sink(line, static_cast<std::size_t>(n) < sizeof line ? static_cast<std::size_t>(n)
                                                                    : sizeof line - 1);
  };
  using ull = unsigned long long;
  emit(std::snprintf(line, sizeof line,
                     "spool alloc: %llu segments, %llu large allocations (%llu bytes live), "
                     "%llu free bytes kept resident\n",
                     ull{s.segments}, ull{s.large_allocs}, ull{s.large_bytes_live},
                     ull{s.retained_free_bytes}));
  emit(std::snprintf(line, sizeof line, "%6s %8s %12s %10s %10s %8s %12s %10s %9s %6s %8s\n",
                     "class", "size", "hits", "misses", "refills", "flushes", "retained", "depot",
                     "released", "count", "learner"));
  static const char* const kLearnerState[] = {"-", "learning", "stood", "watching"};
  for (unsigned c = 0; c < kClassCount; ++c) {
    const ClassStats& k = s.classes[c];
    if (k.misses == 0 && k.bytes_retained == 0 && k.hits == 0) continue;
    emit(std::snprintf(line, sizeof line,
                       "%6u %8zu %12s %10llu %10llu %8llu %12llu %10llu %9llu %6u %8s\n", c,
                       class_size(c), s.hits_tracked ? "" : "n/a", ull{k.misses}, ull{k.refills},
                       ull{k.flushes}, ull{k.bytes_retained}, ull{k.depot_blocks},
                       ull{k.released_blocks}, k.refill_count,
                       kLearnerState[k.learner_state < 4 ? k.learner_state : 0]));
    if (s.hits_tracked) {
      emit(std::snprintf(line, sizeof line, "%6s %8s %12llu\n", "", "hits:", ull{k.hits}));
    }
  }
  const double cpu_share =
      s.learner_wall_ns ? 100.0 * static_cast<double>(s.learner_cpu_ns) /
                              static_cast<double>(s.learner_wall_ns)
                        : 0.0;
  const double drop_rate =
      (s.events_pushed + s.events_dropped)
          ? 100.0 * static_cast<double>(s.events_dropped) /
                static_cast<double>(s.events_pushed + s.events_dropped)
          : 0.0;
  emit(std::snprintf(line, sizeof line,
                     "learner: %s, events pushed %llu, dropped %llu (%.4f%%), consumed %llu, "
                     "decisions %llu, cpu %.3f ms over %.3f s (%.4f%% of a core)\n",
                     s.learner_running ? "running" : "not running", ull{s.events_pushed},
                     ull{s.events_dropped}, drop_rate, ull{s.events_consumed},
                     ull{s.learner_decisions}, static_cast<double>(s.learner_cpu_ns) / 1e6,
                     static_cast<double>(s.learner_wall_ns) / 1e9, cpu_share));
  emit(std::snprintf(line, sizeof line,
                     "learner stood down: %u of %u classes watching (nothing to gain), %u stood "
                     "down (not ahead; %llu times in all)\n",
                     s.learner_watching, s.learner_classes, s.learner_stood_down,
                     ull{s.learner_stand_downs}));
}

}  // namespace

void print_report(int fd) noexcept {
  const Stats s = stats();
  format_report(s, [fd](const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = write(fd, p, n);
      if (w <= 0) return;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  });
}

std::string report() {
  const Stats s = stats();
  std::string out;
  format_report(s, [&out](const char* p, std::size_t n) { out.append(p, n); });
  return out;
}

}  // namespace spool::alloc
