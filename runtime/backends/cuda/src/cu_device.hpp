// CuDeviceImpl: the CUDA implementation of the backend contract. Split like
// the Vulkan backend: cu_device.cpp (discovery, buffers, kernels, execute),
// cu_exec.cpp (launches, recorded), cu_persistent.cpp (queue, engine,
// watchdog), cu_calibrate.cpp (launch profile). Host-only logic lives behind
// seams tested without a GPU: cu_ring (queue bookkeeping), cu_graph_plan
// (graph replay/update/rebuild), cu_args (argument layouts), cu_check (errors).
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "builtin_table.hpp"
#include "cu_args.hpp"
#include "cu_graph_plan.hpp"
#include "cu_ring.hpp"
#include "spool/backend/backend.hpp"

namespace spool::cuda {

struct PersistentOptions {
  std::uint32_t slots = 1024;
  std::uint32_t blocks = 0;          // 0: from occupancy x SMs, leaving headroom
  std::uint32_t park_us = 2000;
  std::uint32_t watchdog_ms = 2000;
  std::uint32_t idle_limit = 1u << 20;  // empty polls (with back-off) before a block exits
};

class CuKernelImpl final : public backend::KernelImpl {
 public:
  CuKernelImpl(int device, const kernels::BuiltinCuda& k, const ArgLayout& layout, std::uint32_t block);
  const backend::KernelDesc& desc() const noexcept override { return desc_; }
  int device() const noexcept { return device_; }
  const void* launch_fn() const noexcept { return launch_; }
  const void* persistent_fn() const noexcept { return persistent_; }
  std::uint32_t block() const noexcept { return block_; }

 private:
  int device_;
  const void* launch_;
  const void* persistent_;
  std::uint32_t block_;
  backend::KernelDesc desc_;
};

class CuDeviceImpl final : public backend::DeviceImpl {
 public:
  CuDeviceImpl(int ordinal, DeviceInfo info, PersistentOptions po);
  ~CuDeviceImpl() override;

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

 private:
  // ---- cu_exec.cpp (callers hold mu_) ----
  backend::ExecResult run_launches(const CuKernelImpl& k, std::span<const backend::PackedItem> items);
  backend::ExecResult run_recorded(const CuKernelImpl& k, std::span<const backend::PackedItem> items,
                                   bool sequential, bool use_cache);
  void destroy_graph(std::size_t entry) noexcept;

  // ---- cu_persistent.cpp ----
  void push_persistent(const CuKernelImpl& k, const backend::ExecRequest& req, backend::Completion done);
  void start_persistent_locked(const CuKernelImpl& k);
  void launch_persistent_locked(const CuKernelImpl& k, bool parking);
  bool kernel_exited_locked() const;
  bool relaunch_if_exited_locked(bool parking);
  void park_locked(std::unique_lock<std::mutex>& lk);
  void recover_locked();
  void engine_main();
  std::uint32_t persistent_blocks(const CuKernelImpl& k);

  int ordinal_;
  DeviceInfo info_;
  PersistentOptions popts_;
  mutable std::mutex mu_;

  cudaStream_t stream_ = nullptr;   // launches, recorded
  cudaStream_t pstream_ = nullptr;  // the persistent kernel
  cudaEvent_t ev_start_ = nullptr, ev_stop_ = nullptr;

  struct Graph {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    std::vector<cudaGraphNode_t> nodes;
  };
  GraphPlanner planner_{8};
  std::vector<Graph> graphs_{8};

  // persistent
  std::uint32_t* ring_host_ = nullptr;    // mapped pinned
  std::uint32_t* ring_device_ = nullptr;  // its device address
  std::optional<RingBook> book_;
  const CuKernelImpl* resident_ = nullptr;
  bool hung_ = false;
  std::uint32_t blocks_ = 0;
  std::condition_variable engine_cv_;
  std::condition_variable space_cv_;
  std::chrono::steady_clock::time_point last_progress_{};
  bool stop_ = false;
  std::thread engine_;

  std::map<std::string, std::shared_ptr<CuKernelImpl>> builtin_cache_;
};

}  // namespace spool::cuda
