// Launch-profile calibration: measures L, R, r, P, p with the empty kernel
// under the conditions the process runs in, with the plan and arithmetic
// every backend shares (spool/backend/calibration.hpp). R/r: a CUDA graph built and
// instantiated per run (no cache), so R includes building the graph; P/p: a
// cold start with one item, then a resident batch of 256. Always on Spool's
// own streams, for owned and borrowed devices alike.
#include <vector>

#include "spool/backend/calibration.hpp"

#include "cu_check.hpp"
#include "cu_device.hpp"

namespace spool::cuda {

LaunchProfile CuDeviceImpl::calibrate() {
  auto k = std::dynamic_pointer_cast<CuKernelImpl>(load_builtin("empty", {}));
  const auto items = backend::empty_items;
  using Plan = backend::CalibrationPlan;
  const auto one = items(1), launch_items = items(Plan::kLaunchItems),
             record_items = items(Plan::kRecordItems), queue_items = items(Plan::kQueueItems);

  backend::CalibrationSamples s;
  {
    std::unique_lock lk(exec_mu());
    queue_->hold(lk);  // parks the persistent kernel
    try {
      DeviceScope scope(ordinal_);
      check_pending(__FILE__, __LINE__, !borrowed_);
      // On Spool's own stream even when batches go to a borrowed one: the
      // profile must not include the application's work (and is the one an
      // owned device of this ordinal measures and stores).
      const cudaStream_t own = own_stream_.get();
      run_launches(*k, launch_items, own);  // warm-up
      for (int i = 0; i < Plan::kRepetitions; ++i) {
        s.launch_per_item.push_back(run_launches(*k, launch_items, own).wall_ns / Plan::kLaunchItems);
      }
      for (int i = 0; i < Plan::kRepetitions; ++i) {
        s.record_one.push_back(run_recorded(*k, one, false, false, own).wall_ns);
        s.record_many.push_back(run_recorded(*k, record_items, false, false, own).wall_ns);
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
    for (int j = 0; j < 3; ++j) s.persistent_resident_one.push_back(run_persistent(one));
  }
  park_persistent();
  return backend::profile_from_samples(s);
}

}  // namespace spool::cuda
