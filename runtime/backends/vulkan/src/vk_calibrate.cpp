// Launch-profile calibration: measures L, R, r, P, p with the empty kernel
// under the conditions the process runs in. Takes well under a second on
// lavapipe. Each figure is the median of a few repetitions.
#include <vector>

#include "spool/backend/calibration.hpp"

#include "vk_device.hpp"

namespace spool::vulkan {

LaunchProfile VkDeviceImpl::calibrate() { return calibrate(backend::CalibrationRun::full()); }
LaunchProfile VkDeviceImpl::calibrate_quick() { return calibrate(backend::CalibrationRun::quick()); }

LaunchProfile VkDeviceImpl::calibrate(const backend::CalibrationRun& plan) {
  auto k = std::dynamic_pointer_cast<VkKernelImpl>(load_builtin("empty", {}));
  const auto items = backend::empty_items;
  const auto one = items(1), launch_items = items(plan.launch_items),
             record_items = items(plan.record_items), queue_items = items(plan.queue_items);

  backend::CalibrationSamples s;
  {
    std::unique_lock lk(exec_mu());
    queue_->hold(lk);
    try {
      run_launches(*k, launch_items, false);  // warm-up
      for (int i = 0; i < plan.repetitions; ++i) {
        s.launch_per_item.push_back(run_launches(*k, launch_items, false).wall_ns / plan.launch_items);
      }
      for (int i = 0; i < plan.repetitions; ++i) {
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
  run_persistent(one);  // warm-up: the persistent pipeline compiles at its first use
  for (int i = 0; i < plan.persistent_repetitions; ++i) {
    queue_->park();
    s.persistent_cold.push_back(run_persistent(one));
    s.persistent_warm_per_item.push_back(run_persistent(queue_items) / plan.queue_items);
  }
  queue_->park();
  return backend::profile_from_samples(s, plan.record_items);
}

}  // namespace spool::vulkan
