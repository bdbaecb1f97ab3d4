#include "launch_model.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace spool {

namespace {

std::uint64_t to_ns(double v) {
  if (!(v > 0)) return 0;
  if (v >= 1.8e19) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(std::llround(v));
}

double ewma(double old, double sample, double alpha) {
  return old < 0 ? sample : old + alpha * (sample - old);
}

constexpr std::size_t idx(LaunchMode m) { return static_cast<std::size_t>(m); }

}  // namespace

std::uint8_t grid_bucket(std::uint32_t grid) noexcept {
  return grid == 0 ? 0 : static_cast<std::uint8_t>(std::bit_width(grid) - 1);
}

double LaunchModel::overhead(LaunchMode m) const {
  switch (m) {
    case LaunchMode::launches: return profile_.launch_ns;
    case LaunchMode::recorded: return profile_.replay_ns;
    case LaunchMode::persistent: return profile_.queue_item_ns;
  }
  return 0;
}

double LaunchModel::setup(LaunchMode m, bool resident) const {
  switch (m) {
    case LaunchMode::launches: return 0;
    case LaunchMode::recorded: return profile_.record_setup_ns;
    case LaunchMode::persistent: return resident ? 0 : profile_.persistent_setup_ns;
  }
  return 0;
}

Prediction LaunchModel::predict(const ModelKey& key, std::uint32_t n, bool resident,
                                const std::array<bool, 3>& available) {
  std::lock_guard lk(mu_);
  Entry& e = entries_[key];
  ++e.batches;

  // The kernel's own time per item: measured by device timestamps if we have
  // them, else inferred from any observed mode (observed - that mode's
  // overhead), else unknown (0: untried modes then look optimistic, so they
  // get tried and corrected — exploration by optimism).
  double k = e.kernel_ns;
  if (k < 0) {
    for (std::size_t m = 0; m < 3; ++m) {
      if (e.per_item[m] >= 0) {
        const double guess = std::max(0.0, e.per_item[m] - overhead(static_cast<LaunchMode>(m)));
        k = k < 0 ? guess : std::min(k, guess);
      }
    }
  }
  if (k < 0) k = 0;

  policy::LaunchModeInputs in{};
  in.batch_size = n;
  in.per_item_kernel_ns = 0;  // folded into each mode's per-item cost below
  in.persistent_resident = resident;
  std::array<policy::ModeOverhead*, 3> slots{&in.launches, &in.recorded, &in.persistent};
  for (std::size_t m = 0; m < 3; ++m) {
    const auto mode = static_cast<LaunchMode>(m);
    const bool profiled = m == 0 || (m == 1 ? profile_.recorded_available : profile_.persistent_available);
    if (!available[m] || !profiled) continue;
    const double per_item = e.per_item[m] >= 0 ? e.per_item[m] : overhead(mode) + k;
    *slots[m] = policy::ModeOverhead{true, to_ns(setup(mode, false)), to_ns(per_item)};
  }
  // The launch mode is always measured once calibrated; an uncalibrated
  // profile (launch_ns == 0) makes the policy fall back to launches.
  if (profile_.launch_ns <= 0) in.launches.measured = false;

  Prediction p;
  p.decision = policy::choose_launch_mode(in);
  p.kernel_ns = k;

  // Re-measure a stale or never-tried mode now and then when its prediction
  // is within 2x of the best, so a change of conditions is noticed.
  if (n >= 2 && e.batches % kExploreEvery == 0 && in.launches.measured) {
    const auto best = p.decision.predicted_ns[idx(p.decision.mode)];
    for (std::size_t m = 0; m < 3; ++m) {
      if (m == idx(p.decision.mode) || !p.decision.available[m]) continue;
      const bool stale = e.per_item[m] < 0 || e.batches - e.seen_at[m] > kStaleAfter;
      if (stale && p.decision.predicted_ns[m] <= 2 * best) {
        p.decision.mode = static_cast<LaunchMode>(m);
        p.decision.savings_ns = p.decision.predicted_ns[0] >= p.decision.predicted_ns[m]
                                    ? p.decision.predicted_ns[0] - p.decision.predicted_ns[m]
                                    : 0;
        p.explore = true;
        break;
      }
    }
  }
  return p;
}

void LaunchModel::observe(const ModelKey& key, LaunchMode m, std::uint32_t n, double wall_ns,
                          double device_ns, bool paid_setup) {
  if (n == 0 || !(wall_ns >= 0)) return;
  std::lock_guard lk(mu_);
  Entry& e = entries_[key];
  const std::size_t i = idx(m);
  // The first batch through a pipeline pays one-time costs (shader JIT,
  // first touch of buffers): it is a warm-up, not an observation. launches
  // and recorded share the per-launch pipeline; persistent has its own.
  const std::size_t pipe = m == LaunchMode::persistent ? 1 : 0;
  if (!e.warmed[pipe]) {
    e.warmed[pipe] = true;
    e.seen_at[i] = e.batches;
    return;
  }
  if (device_ns >= 0) e.kernel_ns = ewma(e.kernel_ns, device_ns / n, kAlphaKernel);
  const double setup_paid = paid_setup ? setup(m, false) : 0.0;
  const double per_item = std::max(0.0, (wall_ns - setup_paid) / n);
  e.per_item[i] = ewma(e.per_item[i], per_item, kAlphaKernel);
  e.seen_at[i] = e.batches;

  // Refine the device profile only where the kernel's own time is known from
  // device timestamps; otherwise the sample would charge kernel time to the
  // launch overhead.
  if (e.kernel_ns >= 0 && n >= 2) {
    const double sample = std::max(0.0, per_item - e.kernel_ns);
    double* field = m == LaunchMode::launches   ? &profile_.launch_ns
                    : m == LaunchMode::recorded ? &profile_.replay_ns
                                                : &profile_.queue_item_ns;
    *field = ewma(*field, sample, kAlphaDevice);
    ++profile_.samples;
  }
}

LaunchProfile LaunchModel::profile() const {
  std::lock_guard lk(mu_);
  return profile_;
}

void LaunchModel::set_profile(LaunchProfile p) {
  std::lock_guard lk(mu_);
  profile_ = std::move(p);
}

}  // namespace spool
