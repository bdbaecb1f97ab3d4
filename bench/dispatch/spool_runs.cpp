#include "spool_runs.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <string>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

double ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

// Empty when the verdict says every item ran.
std::string verdict_problem(const spool::Verdict& v) {
  if (v.ok()) return {};
  return "verdict not ok: " + std::to_string(v.items_failed) + " of " + std::to_string(v.items) +
         " items failed" + (v.failure.empty() ? "" : " (" + v.failure + ")");
}

void add_failure(std::string& into, const std::string& what) {
  if (what.empty()) return;
  if (!into.empty()) into += "; ";
  into += what;
}

std::string mode_name(spool::LaunchMode m) { return std::string(spool::policy::to_string(m)); }

}  // namespace

std::vector<std::uint32_t> mixed_sizes(std::uint32_t count, std::uint32_t max, std::uint64_t seed, MixedDist d) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> sizes;
  sizes.reserve(count);
  const double log_span = std::log(static_cast<double>(max) + 1.0);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t r = rng();
    std::uint32_t n = 1;
    if (d == MixedDist::uniform) {
      n = 1 + static_cast<std::uint32_t>(r % max);
    } else {
      const double u = static_cast<double>(r >> 11) * 0x1.0p-53;  // [0, 1)
      n = static_cast<std::uint32_t>(std::floor(std::exp(u * log_span)));
    }
    sizes.push_back(std::clamp<std::uint32_t>(n, 1, max));
  }
  return sizes;
}

bool SpoolRunner::available(Strategy s, const Workload& w, std::string* why) const {
  if (s == Strategy::recorded && !dev_.impl().supports(spool::LaunchMode::recorded)) {
    *why = dev_.impl().unsupported_reason(spool::LaunchMode::recorded);
    return false;
  }
  if (s == Strategy::persistent) {
    if (!dev_.impl().supports(spool::LaunchMode::persistent)) {
      *why = dev_.impl().unsupported_reason(spool::LaunchMode::persistent);
      return false;
    }
    if (!w.kernel().has_persistent()) {
      *why = w.kernel().persistent_unavailable_reason();
      return false;
    }
  }
  return !is_raw(s);
}

spool::SubmitOptions SpoolRunner::options(Strategy s) const {
  spool::SubmitOptions o;
  if (is_forced(s)) o.force_mode = static_cast<spool::LaunchMode>(static_cast<int>(s));
  return o;
}

Measurement SpoolRunner::base(const Workload& w, const char* phase, Strategy s, int rep, bool warmup) const {
  Measurement m;
  m.phase = phase;
  m.kernel = w.kernel_name();
  m.ordering = w.ordering_name();
  m.grid = w.grid();
  m.strategy = s;
  m.rep = rep;
  m.warmup = warmup;
  return m;
}

Measurement SpoolRunner::run_size(Workload& w, std::uint32_t n, Strategy s, int rep, bool warmup) {
  Measurement m = base(w, "sizes", s, rep, warmup);
  m.items = m.items_run = n;
  const spool::SubmitOptions o = options(s);
  w.reset();
  const std::uint32_t primer = std::min(n, cfg_.primer_max);
  for (std::uint32_t k = 0; primer != 0 && k < cfg_.primer_batches; ++k) {
    const spool::Verdict pv = dev_.run(w.build(primer), o);
    w.ran(primer);
    add_failure(m.failure, verdict_problem(pv));
  }
  const auto t0 = Clock::now();
  spool::Batch b = w.build(n);
  const auto t1 = Clock::now();
  const spool::Verdict v = dev_.run(std::move(b), o);
  const auto t2 = Clock::now();
  w.ran(n);
  m.build_ns = ns_between(t0, t1);
  m.run_ns = ns_between(t1, t2);
  m.wall_ns = ns_between(t0, t2);
  m.mode = mode_name(v.mode);
  m.was_resident = v.persistent_was_resident;
  m.predicted_ns = v.predicted_chosen_ns();
  m.measured_ns = v.measured_ns;
  add_failure(m.failure, verdict_problem(v));
  add_failure(m.failure, w.verify());
  return m;
}

Measurement SpoolRunner::run_sequence(Workload& w, const std::vector<std::uint32_t>& sizes, Strategy s, int rep,
                                      bool warmup, const char* phase, std::vector<BatchPrediction>* batches) {
  Measurement m = base(w, phase, s, rep, warmup);
  const spool::SubmitOptions o = options(s);
  std::map<std::string, int> modes;
  std::string problems;
  w.reset();
  m.predicted_ns = 0;
  m.measured_ns = 0;
  const auto start = Clock::now();
  for (std::uint32_t n : sizes) {
    const auto t0 = Clock::now();
    spool::Batch b = w.build(n);
    const auto t1 = Clock::now();
    const spool::Verdict v = dev_.run(std::move(b), o);
    const auto t2 = Clock::now();
    m.build_ns += ns_between(t0, t1);
    m.run_ns += ns_between(t1, t2);
    m.measured_ns += v.measured_ns;
    if (v.predicted_chosen_ns() >= 0 && m.predicted_ns >= 0) {
      m.predicted_ns += v.predicted_chosen_ns();
    } else {
      m.predicted_ns = -1;
    }
    ++modes[mode_name(v.mode)];
    if (batches != nullptr) batches->push_back({v.mode, v.predicted_chosen_ns(), v.measured_ns});
    if (problems.empty()) problems = verdict_problem(v);
  }
  const auto end = Clock::now();
  m.wall_ns = ns_between(start, end);
  for (std::uint32_t n : sizes) {
    w.ran(n);
    m.items += n;
  }
  m.items_run = m.items;
  for (const auto& [name, count] : modes) m.mode += (m.mode.empty() ? "" : " ") + name + "=" + std::to_string(count);
  add_failure(m.failure, problems);
  add_failure(m.failure, w.verify());
  return m;
}

std::vector<Measurement> SpoolRunner::enqueue(Workload& w) {
  std::vector<Measurement> out;
  const spool::SubmitOptions o = options(Strategy::persistent);
  const std::uint32_t n = cfg_.enqueue_items;
  for (int r = 0; r <= cfg_.enqueue_reps; ++r) {
    Measurement m = base(w, "enqueue", Strategy::persistent, r, r == 0);
    m.items = m.items_run = n;
    w.reset();
    const spool::Verdict pv = dev_.run(w.build(1), o);  // makes the kernel resident
    w.ran(1);
    add_failure(m.failure, verdict_problem(pv));
    const auto t0 = Clock::now();
    spool::Batch b = w.build(n);
    const auto t1 = Clock::now();
    m.was_resident = dev_.impl().persistent_resident(*w.kernel().impl());
    const auto t2 = Clock::now();
    spool::Submission sub = dev_.submit(std::move(b), o);
    const auto t3 = Clock::now();
    const spool::Verdict v = sub.wait();
    w.ran(n);
    m.build_ns = ns_between(t0, t1);
    m.run_ns = ns_between(t2, t3);  // submit() alone: the host's enqueue cost
    m.wall_ns = m.run_ns;
    m.mode = mode_name(v.mode);
    m.predicted_ns = v.predicted_chosen_ns();
    m.measured_ns = v.measured_ns;
    add_failure(m.failure, verdict_problem(v));
    add_failure(m.failure, w.verify());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace bench
