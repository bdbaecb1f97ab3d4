// VkDeviceImpl: the Vulkan implementation of the backend contract.
// Methods are split by concern: vk_device.cpp (kernels, buffers),
// vk_exec.cpp (launches, recorded), vk_persistent.cpp (queue, engine,
// watchdog), vk_calibrate.cpp (launch profile).
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "spool/alloc/pool_allocator.hpp"
#include "spool/backend/backend.hpp"
#include "vk_buffer.hpp"
#include "vk_context.hpp"
#include "vk_descriptors.hpp"
#include "vk_kernel.hpp"

namespace spool::vulkan {

struct PersistentOptions {
  std::uint32_t slots = 1024;
  std::uint32_t groups = 0;  // 0: 1 on CPU devices, 64 on GPUs
  std::uint32_t park_us = 2000;
  std::uint32_t watchdog_ms = 2000;
  std::uint32_t idle_limit = 1u << 26;  // empty polls before a workgroup parks itself
  std::uint32_t workgroup = 0;          // persistent workgroup size (0: 8 on CPU devices)
};

// PersistentOptions from the SPOOL_* options table.
PersistentOptions read_persistent_options();

class VkDeviceImpl final : public backend::DeviceImpl {
 public:
  VkDeviceImpl(std::shared_ptr<Instance> inst, const PhysicalDevice& pd, PersistentOptions po);
  // Over an application's device (vk_interop.cpp); `app_cache` may be null.
  VkDeviceImpl(std::shared_ptr<Context> ctx, PersistentOptions po, VkPipelineCache app_cache);
  ~VkDeviceImpl() override;

  const DeviceInfo& info() const noexcept override { return ctx_->physical().info; }
  std::string identity() const override;
  std::shared_ptr<backend::BufferImpl> create_buffer(std::uint64_t bytes, bool host_visible) override;
  std::vector<std::string> builtin_kernels() const override;
  std::shared_ptr<backend::KernelImpl> load_builtin(std::string_view name,
                                                    const backend::KernelVariant& v) override;
  std::shared_ptr<backend::KernelImpl> load_spirv(std::string name,
                                                  std::span<const std::uint32_t> launch,
                                                  std::span<const std::uint32_t> persistent,
                                                  const backend::KernelVariant& v) override;
  std::shared_ptr<backend::KernelImpl> load_module(const backend::SpirvModule& m,
                                                   const backend::KernelVariant& v) override;
  std::shared_ptr<backend::KernelImpl> load_variant(const backend::KernelImpl& k,
                                                    const backend::KernelVariant& v) override;
  bool supports(LaunchMode m) const noexcept override;
  std::string unsupported_reason(LaunchMode m) const override;
  const std::shared_ptr<Context>& context() const noexcept { return ctx_; }
  bool persistent_resident(const backend::KernelImpl& k) const noexcept override;
  void execute(LaunchMode mode, const backend::ExecRequest& req, backend::Completion done) override;
  LaunchProfile calibrate() override;
  void park_persistent() override;
  void attach_cache_dir(const std::string& dir) override;
  bool enable_validation() override {
    validate_ = true;
    return true;
  }

 private:
  // ---- vk_exec.cpp (callers hold mu_) ----
  backend::ExecResult run_launches(const VkKernelImpl& k, std::span<const backend::PackedItem> items,
                                   bool sequential);
  backend::ExecResult run_recorded(const VkKernelImpl& k, std::span<const backend::PackedItem> items,
                                   bool sequential, bool use_cache);
  void record_dispatch(VkCommandBuffer cb, const VkKernelImpl& k, const backend::PackedItem& it,
                       VkDescriptorSet set) const;
  void wait_fence(VkFence f, const char* what);
  std::uint32_t persistent_wg() const noexcept;
  void init();  // command pools, fences, queries, queue ring, engine thread
  VkPipelineCache pipeline_cache() const noexcept {
    return app_cache_ != VK_NULL_HANDLE ? app_cache_ : pipeline_cache_.get();
  }
  void check_items(const VkKernelImpl& k, std::span<const backend::PackedItem> items) const;

  // ---- vk_persistent.cpp ----
  struct Tracker {
    const VkKernelImpl* kernel = nullptr;
    std::vector<backend::PackedItem, alloc::PoolAllocator<backend::PackedItem>> items;  // copies of the request's items (pooled)
    backend::Completion done;
    std::chrono::steady_clock::time_point start;
    std::uint32_t pushed = 0;
    std::uint32_t finished = 0;  // run + failed
    backend::ExecResult result;
  };
  void push_persistent(const VkKernelImpl& k, const backend::ExecRequest& req, backend::Completion done);
  void start_persistent_locked(const VkKernelImpl& k);
  void launch_shader_locked(const VkKernelImpl& k, bool parking);
  bool relaunch_if_exited_locked(bool parking);
  void park_locked(std::unique_lock<std::mutex>& lk);
  void reap_locked();
  void recover_locked();
  void engine_main();
  bool fence_signaled_locked() const;
  std::uint32_t* slot(std::uint32_t seq) const;
  std::uint32_t* control(std::uint32_t word) const;

  std::shared_ptr<Context> ctx_;
  PersistentOptions popts_;
  bool validate_ = false;  // guards around every buffer (SPOOL_VALIDATE)
  mutable std::mutex mu_;  // the queue and all execution state

  // launches / recorded
  OwnedCommandPool launch_pools_[2];
  std::vector<VkCommandBuffer> launch_cbs_[2];
  OwnedFence launch_fences_[2];
  bool launch_fence_pending_[2] = {false, false};
  DescriptorArena launch_sets_[2];  // bound buffers of ABI-less kernels, per chunk
  DescriptorArena record_sets_;
  OwnedCommandPool record_pool_;
  OwnedFence record_fence_;
  OwnedQueryPool queries_;
  struct Recorded {
    const VkKernelImpl* kernel = nullptr;
    bool sequential = false;
    std::vector<std::uint32_t> grids;
    std::vector<std::byte> args;
    VkCommandBuffer cb = VK_NULL_HANDLE;
    std::uint32_t query = 0;
    std::uint64_t last_use = 0;
  };
  std::vector<Recorded> recorded_cache_;
  std::uint64_t use_clock_ = 0;

  // persistent
  std::shared_ptr<VkBufferImpl> ring_;
  std::uint32_t* ring_words_ = nullptr;
  std::uint32_t capacity_ = 0;
  OwnedCommandPool persistent_pool_;
  VkCommandBuffer persistent_cb_ = VK_NULL_HANDLE;
  OwnedFence persistent_fence_;
  const VkKernelImpl* resident_ = nullptr;
  bool hung_ = false;
  std::vector<backend::Completion> hung_keepalive_;  // batches a hung shader may still touch
  std::uint32_t next_seq_ = 0;
  std::uint32_t reclaim_seq_ = 0;
  struct Owner {
    Tracker* tracker = nullptr;
    std::uint32_t pos = 0;  // position in the tracker's request
  };
  std::vector<Owner> owners_;
  std::list<std::unique_ptr<Tracker>> trackers_;
  std::vector<std::pair<backend::Completion, backend::ExecResult>> ready_;
  std::condition_variable engine_cv_;
  std::condition_variable space_cv_;
  std::chrono::steady_clock::time_point last_progress_{};
  std::uint32_t last_done_ = 0;
  bool stop_ = false;
  std::thread engine_;

  std::map<std::string, std::shared_ptr<VkKernelImpl>> builtin_cache_;
  // Compiled pipelines persisted next to the autotune store (vk_pipeline_cache.cpp).
  OwnedPipelineCache pipeline_cache_;
  VkPipelineCache app_cache_ = VK_NULL_HANDLE;  // the application's: used, never saved or destroyed
  std::string pipeline_cache_path_;
  void save_pipeline_cache() noexcept;
  std::uint32_t groups_ = 1;
};

}  // namespace spool::vulkan
