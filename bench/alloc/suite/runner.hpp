// Runs one alloc_workload process under one allocator and collects what it
// reported: the workload's result line, its peak RSS (wait4) and, for the
// Spool shim, the learner line of the allocator's exit report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace spool::bench {

struct Allocator {
  std::string name;     // column name: spool, spool-fixed, mimalloc, ...
  std::string preload;  // LD_PRELOAD value ("" = glibc, the default malloc)
  std::map<std::string, std::string> env;  // extra environment
  bool is_spool = false;
  bool is_peer = true;  // counts for "best peer"
};

struct RunSpec {
  std::string workload_bin;
  std::string workload;
  int threads = 1;
  double scale = 1.0;
  int idle_ms = 0;
  int timeout_s = 300;
};

struct RunResult {
  bool ok = false;
  std::string error;       // why not ok
  double rate = 0;         // ops per second of wall time
  double cpu_rate = 0;     // ops per second of process CPU time (user + system)
  double ops = 0;
  double seconds = 0;
  std::uint64_t check = 0;
  std::uint64_t peak_rss_kib = 0;
  std::uint64_t rss_idle_kib = 0;
  double cpu_s = 0;        // user + system of the whole process
  // Spool only (from SPOOL_ALLOC_PRINT_STATS=1):
  bool has_learner = false;
  std::uint64_t events_pushed = 0;
  std::uint64_t events_dropped = 0;
  double learner_cpu_ms = 0;
  double learner_wall_s = 0;
  std::string stand_down;  // classes the learner stood down on ("" if none reported)
};

RunResult run_one(const RunSpec& spec, const Allocator& a);

// Parses "key=value" pairs of one line (values up to the next blank).
std::map<std::string, std::string> parse_pairs(const std::string& line);

}  // namespace spool::bench
