// alloc_workload: runs one allocator workload in this process and prints one
// machine-readable line. It calls plain malloc/free/new/delete, so
//   LD_PRELOAD=<allocator.so> alloc_workload <name>
// measures that allocator; alloc_suite runs every (workload, allocator) pair.
//
// Output (stdout, one line):
//   result workload=<name> ops=<n> seconds=<s> rate=<ops/s> check=<errors>
//          peak_kib=<k> rss_end_kib=<k> rss_idle_kib=<k> cpu_s=<s> [detail]
// detail: workload-specific pairs (phased: phase_s=local:<s>,handoff:<s>,churn:<s>);
// peak: VmHWM, the largest resident set since exec;
// rss_end: resident set right after the workload freed everything;
// rss_idle: after --idle-ms more of doing nothing (memory returned when idle);
// cpu_s: user + system time of the process up to the end of the workload.
// Exit status: 0, 1 when a pattern check failed, 2 on bad arguments.
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "../workload.hpp"

namespace spool::bench {

Result larson(const Params&);
Result xmalloc(const Params&);
Result mstress(const Params&);
Result cache_scratch(const Params&);
Result glibc_simple(const Params&);
Result glibc_thread(const Params&);
Result random_mixed(const Params&);
Result phased(const Params&);

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all = {
      {"larson", "free+malloc", "Larson server, thread churn (mimalloc-bench larson)", larson},
      {"xmalloc", "remote free", "producer/consumer batches of 64 B (xmalloc-test)", xmalloc},
      {"mstress", "malloc", "power-of-two sizes to 1 MiB, migration, long-lived (mimalloc test-stress)", mstress},
      {"cache-scratch", "byte written", "passive false sharing (Hoard cache-scratch)", cache_scratch},
      {"glibc-simple", "malloc+free", "fixed-size batches (glibc bench-malloc-simple)", glibc_simple},
      {"glibc-thread", "free+malloc", "1/size random sizes 4..32768 B (glibc bench-malloc-thread)", glibc_thread},
      {"random-mixed", "step", "16..1040 B random slots (seed checklist bench_random_mixed)", random_mixed},
      {"phased", "malloc", "local, then producer/consumer, then thread churn, repeated", phased},
  };
  return all;
}

}  // namespace spool::bench

int main(int argc, char** argv) {
  using namespace spool::bench;
  CLI::App app{"Runs one allocator workload with whatever malloc is linked or preloaded."};
  std::string name;
  Params p;
  int idle_ms = 0;
  std::string names;
  for (const auto& w : workloads()) names += std::string(names.empty() ? "" : ", ") + w.name;
  app.add_option("workload", name, "one of: " + names)->required();
  app.add_option("-t,--threads", p.threads, "worker threads")->check(CLI::Range(1, 256));
  app.add_option("-s,--scale", p.scale, "work multiplier")->check(CLI::Range(0.001, 1000.0));
  app.add_option("--seed", p.seed, "random seed");
  std::string phases;
  app.add_option("--phases", phases,
                 "phased only: comma-separated phases to run (local, handoff, churn; default all)");
  app.add_option("--idle-ms", idle_ms, "idle time before the second RSS reading")
      ->check(CLI::Range(0, 60'000));
  CLI11_PARSE(app, argc, argv);

  const Workload* w = nullptr;
  for (const auto& c : workloads()) {
    if (name == c.name) w = &c;
  }
  if (w == nullptr) {
    std::fprintf(stderr, "alloc_workload: unknown workload '%s' (known: %s)\n", name.c_str(),
                 names.c_str());
    return 2;
  }
  if (!phases.empty()) {
    std::string err;
    if (std::string(w->name) != "phased") {
      std::fprintf(stderr, "alloc_workload: --phases applies to the phased workload only, not '%s'\n",
                   w->name);
      return 2;
    }
    if (!parse_phases(phases, p.phases, err)) {
      std::fprintf(stderr, "alloc_workload: --phases: %s\n", err.c_str());
      return 2;
    }
  }
  const Result r = w->run(p);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  const std::uint64_t peak = peak_rss_kib();
  const std::uint64_t rss_end = rss_kib_now();
  if (idle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
  const std::uint64_t rss_idle = rss_kib_now();
  std::printf("result workload=%s ops=%.0f seconds=%.6f rate=%.1f check=%llu peak_kib=%llu "
              "rss_end_kib=%llu rss_idle_kib=%llu cpu_s=%.6f%s%s\n",
              w->name, r.ops, r.seconds, r.seconds > 0 ? r.ops / r.seconds : 0.0,
              static_cast<unsigned long long>(r.check), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(rss_end), static_cast<unsigned long long>(rss_idle), cpu_s,
              r.detail.empty() ? "" : " ", r.detail.c_str());
  std::fflush(stdout);
  return r.check == 0 ? 0 : 1;
}
