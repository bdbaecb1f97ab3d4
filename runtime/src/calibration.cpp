#include "spool/backend/calibration.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "spool/error.hpp"

namespace spool::backend {

double median(std::vector<double> v) {
  if (v.empty()) SPOOL_THROW(Errc::invalid_argument, "calibration: no samples to take a median of");
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

LaunchProfile profile_from_samples(const CalibrationSamples& s) {
  constexpr double n = CalibrationPlan::kRecordItems;
  LaunchProfile p;
  p.launch_ns = median(s.launch_per_item);
  const double t1 = median(s.record_one), tn = median(s.record_many);
  p.replay_ns = tn > t1 ? (tn - t1) / (n - 1) : tn / n;
  p.record_setup_ns = std::max(0.0, t1 - p.replay_ns);
  p.recorded_available = true;
  p.queue_item_ns = median(s.persistent_warm_per_item);
  p.persistent_setup_ns = std::max(0.0, median(s.persistent_cold) - p.queue_item_ns);
  p.persistent_available = true;
  return p;
}

std::vector<PackedItem> empty_items(std::uint32_t n) {
  alignas(8) static const std::byte zeros[16] = {};
  std::vector<PackedItem> v(n);
  for (std::uint32_t i = 0; i < n; ++i) v[i] = PackedItem{1, i, zeros};
  return v;
}

ExecResult run_and_wait(const std::function<void(Completion)>& start) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  ExecResult out;
  start([&](ExecResult&& r) {
    std::lock_guard g(m);
    out = std::move(r);
    done = true;
    cv.notify_all();
  });
  std::unique_lock g(m);
  cv.wait(g, [&] { return done; });
  return out;
}

}  // namespace spool::backend
