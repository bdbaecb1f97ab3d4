// CuDeviceImpl: the CUDA implementation of the backend contract. Split like
// the Vulkan backend: cu_device.cpp (discovery, buffers, kernels, execute),
// cu_exec.cpp (launches, recorded), cu_capture.cpp (recorded for application
// kernels), cu_persistent.cpp (the driver of the core's persistent queue),
// cu_calibrate.cpp (launch profile), cu_interop.cpp (borrowed streams,
// application kernels and memory). Host-only logic lives behind seams tested
// without a GPU: spool/cuda/ring_leader.hpp (the device loop's claiming
// leader), cu_grid (persistent grid and chunk), cu_deferred_free (releasing
// memory while a kernel is resident), cu_graph_plan (graph
// replay/update/rebuild), cu_args (argument layouts), cu_app_kernel
// (application descriptors), cu_wrap (application pointers), cu_check
// (errors). The persistent queue itself (bookkeeping, watchdog, recovery,
// parking) is the runtime core's (spool/backend/persistent_queue.hpp).
//
// Streams: `own_stream_` is Spool's (calibration, fallback launches of the
// persistent queue, graph capture); batches in the launches and recorded
// modes go to `stream_`, which is `own_stream_` or the application's
// borrowed stream (never created nor destroyed here); the persistent kernel
// runs on `pstream_`.
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cu_args.hpp"
#include "cu_deferred_free.hpp"
#include "cu_graph_plan.hpp"
#include "cu_handles.hpp"
#include "cu_kernel.hpp"
#include "spool/backend/backend.hpp"
#include "spool/backend/persistent_queue.hpp"

namespace spool::cuda {

struct PersistentOptions {
  backend::QueueOptions queue;  // slots, park, watchdog, start-up, grace (no loop budget on GPUs)
  std::uint32_t blocks = 0;     // 0: about two per SM (cu_grid.hpp)
};

// The SPOOL_* persistent options (spool/options.hpp).
PersistentOptions persistent_options_from_env();
// The number of CUDA devices; 0 with the reason in `why_none` (no driver, no
// device, ...). Never throws.
int device_count(std::string* why_none);
// Name, UUID, versions and limits of CUDA device `ordinal`.
DeviceInfo query_device_info(int ordinal);

// The device is also the persistent queue's driver (cu_persistent.cpp).
class CuDeviceImpl final : public backend::DeviceImpl, private backend::PersistentDriver {
 public:
  // `borrowed`: the application's stream for launches and recorded batches
  // (spool::cuda::open_device); nullptr: a stream of Spool's own.
  CuDeviceImpl(int ordinal, DeviceInfo info, PersistentOptions po, cudaStream_t borrowed = nullptr);
  ~CuDeviceImpl() override;

  int ordinal() const noexcept { return ordinal_; }
  // Where buffers of this device release their memory (cu_deferred_free.hpp).
  const std::shared_ptr<DeferredFrees>& frees() const noexcept { return frees_; }
  // A word of the persistent queue's ring (spool/backend/ring_abi.h), read
  // without the queue's lock: for tests and diagnostics (e.g. whether the
  // watchdog has asked the kernel to stop: SPOOL_RING_SHUTDOWN).
  std::uint32_t ring_word(std::uint32_t w) const noexcept;
  // An application kernel (spool::cuda::load_kernel); cached per name and
  // block size. Throws spool::Error for a bad descriptor, a name already
  // used by another descriptor, a kernel not compiled for this device, or a
  // block size it cannot run.
  std::shared_ptr<CuKernelImpl> load_app(const AppKernelDesc& d, std::uint32_t block, std::string_view source_id);

  const DeviceInfo& info() const noexcept override { return info_; }
  std::string identity() const override;
  std::shared_ptr<backend::BufferImpl> create_buffer(std::uint64_t bytes, bool host_visible) override;
  std::vector<std::string> builtin_kernels() const override;
  std::shared_ptr<backend::KernelImpl> load_builtin(std::string_view name,
                                                    const backend::KernelVariant& v) override;
  std::shared_ptr<backend::KernelImpl> load_spirv(std::string name,
                                                  std::span<const std::uint32_t> launch,
                                                  std::span<const std::uint32_t> persistent,
                                                  const backend::KernelVariant& v) override;
  bool supports(LaunchMode) const noexcept override { return true; }
  bool persistent_resident(const backend::KernelImpl& k) const noexcept override;
  void execute(LaunchMode mode, const backend::ExecRequest& req, backend::Completion done) override;
  LaunchProfile calibrate() override;
  void park_persistent() override;
  void poll_progress() override { queue_->tick(); }
  bool enable_validation() override {
    validate_ = true;
    return true;
  }

 private:
  // ---- cu_exec.cpp (callers hold exec_mu() and made the device current) ----
  // One launch per item, in stream order; throws spool::Error when a launch
  // or the wait fails.
  backend::ExecResult run_launches(const CuKernelImpl& k, std::span<const backend::PackedItem> items,
                                   cudaStream_t s);
  backend::ExecResult run_recorded(const CuKernelImpl& k, std::span<const backend::PackedItem> items,
                                   bool sequential, bool use_cache, cudaStream_t s);
  void destroy_graph(std::size_t entry) noexcept;
  struct Graph;
  // Builds (rebuild) or refreshes (update) `g` for the batch being run.
  using GraphBuild = std::function<void(GraphAction, Graph&)>;
  backend::ExecResult run_graph(const CuKernelImpl& k, std::span<const backend::PackedItem> items,
                                bool sequential, bool use_cache, cudaStream_t s, const GraphBuild& build);
  // Waits until the work enqueued so far on `s` has finished: the stream
  // for Spool's own, an event for a borrowed one (work the application
  // enqueues later from other threads is not waited for).
  void wait_stream(cudaStream_t s);
  // Timing of a batch on `s`. On a borrowed stream still busy with the
  // application's earlier work, the host wall time would include that work:
  // then events bracket Spool's part and the reported time is the enqueue
  // time plus the device time of Spool's part (docs/integration_cuda.md).
  struct Timing {
    bool bracketed = false;
    std::chrono::steady_clock::time_point t0;
  };
  Timing begin_timing(cudaStream_t s);
  double end_timing(const Timing& t, std::chrono::steady_clock::time_point enqueued);

  // ---- cu_capture.cpp: recorded mode of application kernels ----
  backend::ExecResult run_captured(const CuKernelImpl& k, std::span<const backend::PackedItem> items,
                                   bool sequential, bool use_cache, cudaStream_t s);
  cudaGraph_t capture(const CuKernelImpl& k, std::span<const backend::PackedItem> items);

  // ---- cu_interop.cpp ----
  // Throws spool::Error(invalid_argument) while the application captures
  // its (borrowed) stream into a graph: Spool waits for its batches on the
  // host, which a capture forbids (and querying would invalidate it).
  void check_not_capturing() const;
  // Persistent batch on a borrowed stream: waits for the application's
  // earlier work on it, runs the batch, returns once it completed.
  void execute_persistent_borrowed(const CuKernelImpl& k, const backend::ExecRequest& req,
                                   backend::Completion done);

  // ---- cu_persistent.cpp: the persistent queue's driver (callers hold exec_mu()) ----
  void launch(const backend::KernelImpl& k, bool fresh) override;
  backend::KernelRun poll(std::string* why) override;
  backend::KernelRun wait(std::chrono::milliseconds timeout, std::string* why) override;
  void run_fallback(const backend::KernelImpl& k, std::span<const backend::PackedItem> items,
                    bool sequential) override;
  std::uint32_t max_chunk(const backend::KernelImpl& k) const override;
  std::mutex& exec_mu() const noexcept { return queue_->mutex(); }

  int ordinal_;
  DeviceInfo info_;
  PersistentOptions popts_;
  bool validate_ = false;  // guards around every buffer (SPOOL_VALIDATE)
  bool borrowed_ = false;
  std::shared_ptr<DeferredFrees> frees_ = std::make_shared<DeferredFrees>();

  Stream own_stream_;               // Spool's: calibration, fallback, capture
  Stream pstream_;                  // the persistent kernel
  cudaStream_t stream_ = nullptr;   // launches, recorded: own_stream_ or borrowed
  Event ev_start_, ev_stop_;        // device time of a batch
  Event ev_sync_;                   // waits on a borrowed stream (no timing)

  // recorded (guarded by exec_mu())
  struct Graph {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    std::vector<cudaGraphNode_t> nodes;
  };
  GraphPlanner planner_{8};
  std::vector<Graph> graphs_{8};

  // persistent: the ring (mapped pinned host memory) and the device control
  // block (device memory), then the core's queue over them
  std::uint32_t* ring_host_ = nullptr;
  std::uint32_t* ring_device_ = nullptr;
  std::uint32_t* dctl_ = nullptr;
  std::unique_ptr<backend::PersistentQueue> queue_;

  mutable std::mutex cache_mu_;  // builtin_cache_, app_cache_
  std::map<std::string, std::shared_ptr<CuKernelImpl>> builtin_cache_;
  std::map<std::string, std::shared_ptr<CuKernelImpl>> app_cache_;
};

}  // namespace spool::cuda
