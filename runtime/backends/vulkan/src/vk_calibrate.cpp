// Launch-profile calibration: measures L, R, r, P, p with the empty kernel
// under the conditions the process runs in. Takes well under a second on
// lavapipe. Each figure is the median of a few repetitions.
#include <vector>

#include "spool/backend/calibration.hpp"

#include "vk_device.hpp"

namespace spool::vulkan {

LaunchProfile VkDeviceImpl::calibrate() {
  auto k = std::dynamic_pointer_cast<VkKernelImpl>(load_builtin("empty", {}));
  const auto items = backend::empty_items;
  using Plan = backend::CalibrationPlan;
  const auto one = items(1), launch_items = items(Plan::kLaunchItems),
             record_items = items(Plan::kRecordItems), queue_items = items(Plan::kQueueItems);

  backend::CalibrationSamples s;
  {
    std::unique_lock lk(exec_mu());
    queue_->hold(lk);
    try {
      run_launches(*k, launch_items, false);  // warm-up
      for (int i = 0; i < Plan::kRepetitions; ++i) {
        s.launch_per_item.push_back(run_launches(*k, launch_items, false).wall_ns / Plan::kLaunchItems);
      }
      for (int i = 0; i < Plan::kRepetitions; ++i) {
        s.record_one.push_back(run_recorded(*k, one, false, false).wall_ns);
        s.record_many.push_back(run_recorded(*k, record_items, false, false).wall_ns);
      }
    } catch (...) {
      queue_->release(lk);
      throw;
    }
    queue_->release(lk);
  }

  // Persistent: a cold start with one item (P + p), then a resident batch.
  auto run_persistent = [&](const std::vector<backend::PackedItem>& it) {
    return backend::run_and_wait([&](backend::Completion done) {
             queue_->submit(*k, it, false, std::move(done));
           })
        .wall_ns;
  };
  for (int i = 0; i < Plan::kPersistentRepetitions; ++i) {
    queue_->park();
    s.persistent_cold.push_back(run_persistent(one));
    s.persistent_warm_per_item.push_back(run_persistent(queue_items) / Plan::kQueueItems);
  }
  queue_->park();
  return backend::profile_from_samples(s);
}

}  // namespace spool::vulkan
