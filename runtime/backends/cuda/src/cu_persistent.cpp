// The `persistent` mode's CUDA part: the driver of the core's persistent
// queue (spool/backend/persistent_queue.hpp), which does the bookkeeping,
// the watchdog and recovery. Here: launch the resident kernel over the ring
// (after zeroing its device control block), ask its stream whether it
// stopped, run fallback items as launches. The device side follows the
// same ring ABI (spool/cuda/kernel_wrap.cuh, spool/cuda/ring_leader.hpp).
#include <thread>

#include "cu_check.hpp"
#include "cu_device.hpp"
#include "cu_grid.hpp"
#include "spool/cuda/ring_leader.hpp"

namespace spool::cuda {

void CuDeviceImpl::launch(const backend::KernelImpl& kernel, bool fresh) {
  const auto& k = static_cast<const CuKernelImpl&>(kernel);
  DeviceScope scope(ordinal_);
  check_pending(__FILE__, __LINE__, !borrowed_);
  const std::uint32_t blocks =
      persistent_grid(info_.limits.compute_units, popts_.blocks != 0 ? 0 : k.persistent_occupancy(), popts_.blocks);
  // From here on memory is released only once the kernel has stopped.
  frees_->launching();
  try {
    // Stream order: the control block is reset before the kernel reads it.
    const ring::DctlReset z = ring::dctl_reset(popts_.queue.capacity, fresh);
    SPOOL_CUDA(cudaMemsetAsync(reinterpret_cast<std::byte*>(dctl_) + z.offset_bytes, 0, z.bytes, pstream_.get()));
    k.launch_persistent(ring_device_, dctl_, blocks, pstream_.get());
  } catch (...) {
    frees_->stopped();  // no kernel was started: nothing holds memory
    throw;
  }
}

// Never throws (the engine thread calls it): a CUDA error is a fault.
backend::KernelRun CuDeviceImpl::poll(std::string* why) {
  const cudaError_t e = cudaStreamQuery(pstream_.get());
  if (e == cudaErrorNotReady) return backend::KernelRun::running;
  frees_->stopped();
  if (e == cudaSuccess) return backend::KernelRun::stopped;
  if (why != nullptr) *why = std::string("cudaStreamQuery(persistent stream): ") + error_name(e);
  return backend::KernelRun::faulted;
}

// The kernel was asked to stop (SHUTDOWN or PARK): its blocks exit between
// slots, so a stall means a body that does not end. Polls the stream; the
// wait is bounded by the queue's grace period.
backend::KernelRun CuDeviceImpl::wait(std::chrono::milliseconds timeout, std::string* why) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const backend::KernelRun r = poll(why);
    if (r != backend::KernelRun::running || std::chrono::steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// On Spool's own stream, whatever stream batches go to: a fallback is part
// of a persistent batch, which runs on Spool's streams. Stream order keeps
// sequential items in order; run_launches waits for them.
void CuDeviceImpl::run_fallback(const backend::KernelImpl& kernel, std::span<const backend::PackedItem> items,
                                bool /*sequential*/) {
  const auto& k = static_cast<const CuKernelImpl&>(kernel);
  DeviceScope scope(ordinal_);
  check_pending(__FILE__, __LINE__, !borrowed_);
  run_launches(k, items, own_stream_.get());
}

std::uint32_t CuDeviceImpl::max_chunk(const backend::KernelImpl& kernel) const {
  return persistent_chunk(static_cast<const CuKernelImpl&>(kernel).block());
}

}  // namespace spool::cuda
