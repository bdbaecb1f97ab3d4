#include "launch_model.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace spool {

namespace {

policy::u128 to_u128(double v) {
  if (!(v > 0)) return 0;
  if (v >= 1.8e19) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(std::llround(v));
}

double ewma(double old, double sample, double alpha) {
  return old < 0 ? sample : old + alpha * (sample - old);
}

constexpr std::size_t idx(LaunchMode m) { return static_cast<std::size_t>(m); }
constexpr std::size_t kPersistent = idx(LaunchMode::persistent);

}  // namespace

std::uint8_t grid_bucket(std::uint32_t grid) noexcept {
  return grid == 0 ? 0 : static_cast<std::uint8_t>(std::bit_width(grid) - 1);
}

// Before any batch of a key ran: the calibrated profile (launches n L,
// recorded R + n r, persistent a + n p once resident, a its round trip).
void LaunchModel::set_priors(Entry& e) const {
  e.fit[idx(LaunchMode::launches)].set_prior(0, profile_.launch_ns);
  e.fit[idx(LaunchMode::recorded)].set_prior(profile_.record_setup_ns, profile_.replay_ns);
  e.fit[kPersistent].set_prior(profile_.queue_latency_ns, profile_.queue_item_ns);
}

Prediction LaunchModel::predict(const ModelKey& key, std::uint32_t n, bool resident,
                                const std::array<bool, 3>& available, bool forced) {
  std::lock_guard lk(mu_);
  auto [it, fresh] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (fresh) set_priors(e);
  ++e.batches;

  policy::TransitionInputs in;
  for (std::size_t m = 0; m < 3; ++m) {
    const bool profiled = m == 0 || (m == 1 ? profile_.recorded_available : profile_.persistent_available);
    in.available[m] = available[m] && (profiled || e.observed[m]);
    in.cost_ns[m] = e.fit[m].predict(n);
    // A mode not yet run for this key is priced from the profile, which was
    // measured with a trivial kernel: add this kernel's own time per item
    // where device timestamps measured it (else a heavy kernel's untried
    // mode looks as cheap as the empty one).
    if (!e.observed[m] && e.kernel_ns > 0) in.cost_ns[m] += n * e.kernel_ns;
  }
  in.resident = resident;
  in.start_ns = e.start_ns >= 0 ? e.start_ns : profile_.persistent_setup_ns;
  // Until a park was measured, assume it costs half a start (both wait for
  // the kernel to notice a flag and the queue to drain).
  in.park_ns = park_ns_ >= 0 ? park_ns_ : 0.5 * in.start_ns;

  const bool calibrated = profile_.launch_ns > 0;
  policy::TransitionDecision d = policy::choose_with_transitions(in, transition_);
  if (!calibrated) d.mode = LaunchMode::launches;  // nothing to amortise against yet
  if (!forced && calibrated) transition_ = d.state;

  Prediction p;
  p.decision.mode = d.mode;
  for (std::size_t m = 0; m < 3; ++m) {
    p.decision.available[m] = in.available[m];
    p.decision.predicted_ns[m] = in.available[m] ? to_u128(d.predicted_ns[m]) : 0;
  }
  const auto chosen = p.decision.predicted_ns[idx(d.mode)];
  const auto launches = p.decision.predicted_ns[0];
  p.decision.savings_ns = launches > chosen ? launches - chosen : 0;
  p.kernel_ns = std::max(0.0, e.kernel_ns);

  // Now and then re-measure a mode not seen for a while whose prediction is
  // within 1.5x of the choice, so a change of conditions is noticed. Such a
  // batch is flagged as exploration in its verdict.
  if (!forced && n >= 2 && e.batches % kExploreEvery == 0) {
    for (std::size_t m = 0; m < 3; ++m) {
      if (m == idx(d.mode) || !in.available[m]) continue;
      const bool stale = !e.observed[m] || e.batches - e.seen_at[m] > kStaleAfter;
      if (stale && d.predicted_ns[m] <= 1.5 * d.predicted_ns[idx(d.mode)]) {
        p.decision.mode = static_cast<LaunchMode>(m);
        p.explore = true;
        break;
      }
    }
  }
  return p;
}

double LaunchModel::observe(const ModelKey& key, const Observation& o, double predicted_ns) {
  if (o.n == 0 || !(o.wall_ns >= 0)) return 0;
  std::lock_guard lk(mu_);
  auto [it, fresh] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (fresh) set_priors(e);
  const std::size_t i = idx(o.mode);
  e.seen_at[i] = e.batches;
  // The first batch through a pipeline pays one-time costs (shader JIT,
  // first touch of buffers): reported on its own, not learned from.
  // launches and recorded share the per-launch pipeline.
  const std::size_t pipe = o.mode == LaunchMode::persistent ? 1 : 0;
  if (!e.warmed[pipe]) {
    e.warmed[pipe] = true;
    return std::max(0.0, o.wall_ns - std::max(0.0, predicted_ns));
  }
  e.observed[i] = true;
  const double n = o.n;
  if (o.device_ns >= 0) e.kernel_ns = ewma(e.kernel_ns, o.device_ns / n, kAlphaKernel);
  if (o.mode == LaunchMode::persistent) {
    if (o.paid_start) {
      const double start = std::max(0.0, o.wall_ns - e.fit[kPersistent].predict(n));
      e.start_ns = ewma(e.start_ns >= 0 ? e.start_ns : profile_.persistent_setup_ns, start, kAlphaSwitch);
    } else {
      e.fit[kPersistent].add(n, o.wall_ns);
    }
  } else {
    e.fit[i].add(n, std::max(0.0, o.wall_ns - o.parked_ns));
    if (o.parked_ns > 0) park_ns_ = ewma(park_ns_, o.parked_ns, kAlphaSwitch);
  }

  // Refine the device profile's per-item overhead where the kernel's own
  // time is known from device timestamps (else the sample would charge
  // kernel time to the launch overhead).
  if (e.kernel_ns >= 0 && o.n >= 2 && !(o.mode == LaunchMode::persistent && o.paid_start)) {
    const double sample = std::max(0.0, e.fit[i].slope() - e.kernel_ns);
    double* field = o.mode == LaunchMode::launches   ? &profile_.launch_ns
                    : o.mode == LaunchMode::recorded ? &profile_.replay_ns
                                                     : &profile_.queue_item_ns;
    *field = ewma(*field, sample, kAlphaDevice);
    ++profile_.samples;
  }
  return 0;
}

LaunchProfile LaunchModel::profile() const {
  std::lock_guard lk(mu_);
  return profile_;
}

void LaunchModel::set_profile(LaunchProfile p) {
  std::lock_guard lk(mu_);
  profile_ = std::move(p);
  for (auto& [key, e] : entries_) {
    if (std::all_of(e.observed.begin(), e.observed.end(), [](bool b) { return !b; })) set_priors(e);
  }
}

}  // namespace spool
