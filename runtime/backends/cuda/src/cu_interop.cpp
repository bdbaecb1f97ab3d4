// Interop with an application's own CUDA setup (spool/cuda/interop.hpp):
// devices over a borrowed stream, application memory as buffers,
// application kernels, and the persistent mode's ordering on a borrowed
// stream.
#include "spool/cuda/interop.hpp"

#include <condition_variable>
#include <mutex>
#include <string>

#include "cu_app_kernel.hpp"
#include "cu_check.hpp"
#include "cu_device.hpp"
#include "cu_wrap.hpp"
#include "spool/error.hpp"

namespace spool::cuda {

namespace {

[[noreturn]] void bad(const char* call, const std::string& msg, int line) {
  throw Error(Errc::invalid_argument, std::string(call) + ": " + msg, call, {}, __FILE__, line);
}

CuDeviceImpl& as_cuda(spool::Device& d, const char* call) {
  auto* cu = dynamic_cast<CuDeviceImpl*>(&d.impl());
  if (cu == nullptr) {
    bad(call, "device '" + d.info().name + "' is a " + to_string(d.info().backend) + " device, not a CUDA device",
        __LINE__);
  }
  return *cu;
}

}  // namespace

std::shared_ptr<spool::Device> open_device(const BorrowedStream& s, const spool::DeviceOptions& opts) {
  constexpr const char* call = "spool::cuda::open_device";
  if (s.stream == nullptr) {
    bad(call, "BorrowedStream::stream is null: lend a stream the application created (or cudaStreamLegacy "
              "for the legacy default stream)",
        __LINE__);
  }
  if (s.stream == cudaStreamPerThread) {
    bad(call, "cudaStreamPerThread is a different stream in every thread, and Spool also launches from its "
              "own threads: lend a stream the application created",
        __LINE__);
  }
  if (s.device < 0) bad(call, "negative device ordinal " + std::to_string(s.device), __LINE__);
  std::string why;
  const int count = device_count(&why);
  if (count == 0) throw Error(Errc::not_supported, std::string(call) + ": " + why, call, {}, __FILE__, __LINE__);
  if (s.device >= count) {
    bad(call, "device " + std::to_string(s.device) + " out of range: " + std::to_string(count) + " CUDA device(s)",
        __LINE__);
  }
  if (s.stream != cudaStreamLegacy) {
    DeviceScope scope(s.device);
    int stream_device = -1;
    const cudaError_t e = cudaStreamGetDevice(s.stream, &stream_device);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      throw_cuda(e, "cudaStreamGetDevice(BorrowedStream::stream)", __FILE__, __LINE__,
                 "the borrowed stream is not a valid CUDA stream (destroyed, or not a stream)");
    }
    if (stream_device != s.device) {
      bad(call, "the stream belongs to CUDA device " + std::to_string(stream_device) + ", not to device " +
                    std::to_string(s.device),
          __LINE__);
    }
  }
  auto impl = std::make_unique<CuDeviceImpl>(s.device, query_device_info(s.device), persistent_options_from_env(),
                                             s.stream);
  return std::make_shared<spool::Device>(std::move(impl), opts);
}

spool::Buffer wrap_device_pointer(spool::Device& device, void* device_ptr, std::uint64_t bytes, void* host_ptr,
                                  std::shared_ptr<void> keep_alive) {
  CuDeviceImpl& cu = as_cuda(device, "spool::cuda::wrap_device_pointer");
  PointerFacts facts, host_facts;
  if (device_ptr != nullptr && bytes != 0) {  // check_wrap reports those without asking CUDA
    DeviceScope scope(cu.ordinal());
    facts = query_pointer(device_ptr);
    if (host_ptr != nullptr) host_facts = query_pointer(host_ptr);
  }
  check_wrap(cu.ordinal(), device_ptr, bytes, facts, host_ptr, host_ptr != nullptr ? &host_facts : nullptr);
  if (keep_alive) {
    // The application's deleter may cudaFree: it runs through the device's
    // DeferredFrees, never while a persistent kernel is resident.
    auto* raw = keep_alive.get();
    keep_alive = std::shared_ptr<void>(raw, [frees = cu.frees(), owner = std::move(keep_alive)](void*) mutable {
      frees->release([owner = std::move(owner)]() mutable { owner.reset(); });
    });
  }
  return spool::Buffer(std::make_shared<WrappedBuffer>(device_ptr, bytes, host_ptr, std::move(keep_alive)));
}

spool::Kernel load_kernel(spool::Device& device, const AppKernelDesc& kernel, const AppKernelOptions& options) {
  CuDeviceImpl& cu = as_cuda(device, "spool::cuda::load_kernel");
  return spool::Kernel(cu.load_app(kernel, options.block_size, options.source_id));
}

std::shared_ptr<CuKernelImpl> CuDeviceImpl::load_app(const AppKernelDesc& d, std::uint32_t block_size,
                                                     std::string_view source_id) {
  constexpr const char* call = "spool::cuda::load_kernel";
  const std::uint32_t block = block_size != 0 ? block_size : kDefaultBlock;
  backend::KernelDesc desc = describe_app_kernel(d, block, source_id);
  const std::string k = "application kernel '" + desc.name + "'";
  if (block % 32 != 0 || block > info_.limits.max_workgroup_size) {
    bad(call, k + ": block size " + std::to_string(block) + " must be a multiple of 32 and at most " +
                  std::to_string(info_.limits.max_workgroup_size),
        __LINE__);
  }
  auto taken = [&]() -> std::shared_ptr<CuKernelImpl> {
    for (const auto& [key, impl] : app_cache_) {
      if (impl->desc().name != desc.name) continue;
      if (impl->app()->launch != d.launch) {
        bad(call, k + ": another descriptor was already loaded under this name on this device; application "
                      "kernel names must be unique",
            __LINE__);
      }
      if (impl->block() == block) return impl;
    }
    return nullptr;
  };
  {
    std::lock_guard lk(cache_mu_);
    if (auto hit = taken()) return hit;
  }
  // The probe runs in the application's runtime: it fails when the
  // application has no image for this device's architecture.
  int launch_max = 0, persistent_max = 0;
  {
    DeviceScope scope(ordinal_);
    const cudaError_t e = d.probe(ordinal_, &launch_max, &persistent_max);
    if (e != cudaSuccess) {
      const std::string what = "cudaFuncGetAttributes of " + k + " (its probe thunk, in the application's runtime)";
      throw_cuda(e, what.c_str(), __FILE__, __LINE__, app_image_hint(e));
    }
  }
  if (launch_max > 0 && block > static_cast<std::uint32_t>(launch_max)) {
    bad(call, k + ": block size " + std::to_string(block) + " exceeds the " + std::to_string(launch_max) +
                  " threads per block the compiled kernel allows",
        __LINE__);
  }
  if (desc.has_persistent && block > static_cast<std::uint32_t>(persistent_max)) {
    desc.has_persistent = false;
    desc.persistent_unavailable_reason = "the compiled persistent kernel allows at most " +
                                         std::to_string(persistent_max) + " threads per block, not " +
                                         std::to_string(block) + "; load it with a smaller block_size";
  }
  std::lock_guard lk(cache_mu_);
  if (auto hit = taken()) return hit;
  auto impl = std::make_shared<CuKernelImpl>(ordinal_, d, std::move(desc), block);
  app_cache_[impl->desc().name + "/" + std::to_string(block)] = impl;
  return impl;
}

void CuDeviceImpl::check_not_capturing() const {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  SPOOL_CUDA(cudaStreamIsCapturing(stream_, &status));
  if (status != cudaStreamCaptureStatusNone) {
    throw Error(Errc::invalid_argument,
                "the borrowed stream is being captured into a CUDA graph (cudaStreamBeginCapture): Spool waits for "
                "its batches on the host, which a capture forbids; submit before or after the capture",
                "execute", {}, __FILE__, __LINE__);
  }
}

void CuDeviceImpl::execute_persistent_borrowed(const CuKernelImpl& k, const backend::ExecRequest& req,
                                               backend::Completion done) {
  // 1. The application's earlier work on its stream: the persistent kernel
  //    runs on Spool's stream, so wait for it on the host (an event, so
  //    work other threads enqueue later is not waited for). Without the
  //    queue's lock: the engine keeps completing earlier batches meanwhile.
  {
    DeviceScope scope(ordinal_);
    const cudaError_t q = cudaStreamQuery(stream_);
    if (q == cudaErrorNotReady) {
      Event prior = Event::create(cudaEventDisableTiming);
      SPOOL_CUDA(cudaEventRecord(prior.get(), stream_));
      SPOOL_CUDA(cudaEventSynchronize(prior.get()));
    } else if (q != cudaSuccess) {
      throw_cuda(q, "cudaStreamQuery(borrowed stream)", __FILE__, __LINE__);
    }
  }
  // 2. Queue the batch and return only once it completed, so the
  //    application's later work on its stream comes after it. The queue
  //    completes every accepted batch (hang, destroyed device included), so
  //    this wait ends.
  struct Waiter {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
  };
  auto w = std::make_shared<Waiter>();
  queue_->submit(k, req.items, req.sequential, [w, done = std::move(done)](backend::ExecResult&& r) mutable {
    done(std::move(r));
    {
      std::lock_guard g(w->m);
      w->done = true;
    }
    w->cv.notify_all();
  });
  std::unique_lock g(w->m);
  w->cv.wait(g, [&] { return w->done; });
}

}  // namespace spool::cuda
