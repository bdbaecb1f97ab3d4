#include "spool/backend/calibration.hpp"

#include <algorithm>
#include <cstdio>
#include <condition_variable>
#include <mutex>

#include "spool/error.hpp"

namespace spool::backend {

double median(std::vector<double> v) {
  if (v.empty()) SPOOL_THROW(Errc::invalid_argument, "calibration: no samples to take a median of");
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

LaunchProfile profile_from_samples(const CalibrationSamples& s, std::uint32_t record_items) {
  const double n = std::max<std::uint32_t>(record_items, 2);
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

bool profile_agrees(const LaunchProfile& stored, const LaunchProfile& quick, double factor, std::string* why) {
  struct Field {
    const char* name;
    double LaunchProfile::*value;
    bool measured;
  };
  const Field fields[] = {{"L", &LaunchProfile::launch_ns, true},
                          {"r", &LaunchProfile::replay_ns, stored.recorded_available && quick.recorded_available},
                          {"p", &LaunchProfile::queue_item_ns,
                           stored.persistent_available && quick.persistent_available}};
  std::string out;
  for (const Field& f : fields) {
    if (!f.measured) continue;
    const double a = stored.*f.value, b = quick.*f.value;
    constexpr double kSlackNs = 2000;
    if (!(a >= 0) || !(b >= 0) || b > a * factor + kSlackNs || a > b * factor + kSlackNs) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s%s stored %.2f us, now %.2f us", out.empty() ? "" : ", ", f.name,
                    a / 1e3, b / 1e3);
      out += buf;
    }
  }
  if (why != nullptr) *why = out;
  return out.empty();
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
