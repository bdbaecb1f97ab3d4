// Launch-profile calibration: measures L, R, r, P, p with the empty kernel
// under the conditions the process runs in. Takes well under a second on
// lavapipe. Each figure is the median of a few repetitions.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <vector>

#include "vk_device.hpp"

namespace spool::vulkan {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

LaunchProfile VkDeviceImpl::calibrate() {
  auto k = std::dynamic_pointer_cast<VkKernelImpl>(load_builtin("empty", {}));
  alignas(8) static const std::byte zeros[16] = {};
  auto items = [&](std::uint32_t n) {
    std::vector<backend::PackedItem> v(n);
    for (std::uint32_t i = 0; i < n; ++i) v[i] = backend::PackedItem{1, i, zeros};
    return v;
  };
  constexpr int kReps = 5;
  constexpr std::uint32_t kLaunchN = 16, kRecordN = 256, kQueueN = 256;
  const auto one = items(1), launch_items = items(kLaunchN), record_items = items(kRecordN),
             queue_items = items(kQueueN);

  LaunchProfile p;
  std::vector<double> l, r1, rn;
  {
    std::unique_lock lk(mu_);
    park_locked(lk);
    run_launches(*k, launch_items, false);  // warm-up
    for (int i = 0; i < kReps; ++i) l.push_back(run_launches(*k, launch_items, false).wall_ns / kLaunchN);
    for (int i = 0; i < kReps; ++i) {
      r1.push_back(run_recorded(*k, one, false, false).wall_ns);
      rn.push_back(run_recorded(*k, record_items, false, false).wall_ns);
    }
  }
  p.launch_ns = median(l);
  const double t1 = median(r1), tn = median(rn);
  // When noise hides the difference, fall back to the whole replay's cost
  // per dispatch: an upper bound, never a zero that would make replays look free.
  p.replay_ns = tn > t1 ? (tn - t1) / (kRecordN - 1) : tn / kRecordN;
  p.record_setup_ns = std::max(0.0, t1 - p.replay_ns);
  p.recorded_available = true;

  // Persistent: a cold start with one item (P + p), then a resident batch.
  auto run_persistent = [&](const std::vector<backend::PackedItem>& it) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    double wall = 0;
    backend::ExecRequest req{k.get(), it, false};
    push_persistent(*k, req, [&](backend::ExecResult&& res) {
      std::lock_guard g(m);
      wall = res.wall_ns;
      done = true;
      cv.notify_all();
    });
    engine_cv_.notify_all();
    std::unique_lock g(m);
    cv.wait(g, [&] { return done; });
    return wall;
  };
  std::vector<double> cold, warm;
  for (int i = 0; i < 3; ++i) {
    park_persistent();
    cold.push_back(run_persistent(one));
    warm.push_back(run_persistent(queue_items) / kQueueN);
  }
  park_persistent();
  p.queue_item_ns = median(warm);
  p.persistent_setup_ns = std::max(0.0, median(cold) - p.queue_item_ns);
  p.persistent_available = true;
  return p;
}

}  // namespace spool::vulkan
