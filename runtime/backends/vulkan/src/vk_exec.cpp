// The `launches` and `recorded` modes. Callers hold exec_mu().
#include <chrono>
#include <cstring>

#include "vk_check.hpp"
#include "vk_descriptors.hpp"
#include "vk_device.hpp"

namespace spool::vulkan {

namespace {

using Clock = std::chrono::steady_clock;

double ns_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

void begin(VkCommandBuffer cb, VkCommandBufferUsageFlags flags) {
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = flags;
  SPOOL_VK(vkBeginCommandBuffer(cb, &bi));
}

// Makes earlier writes visible to the next dispatch: with `all_prior`, every
// write earlier in the queue's submission order (any stage: the
// application's transfers and shaders on a borrowed queue), else the
// previous dispatch's shader writes.
void compute_barrier(VkCommandBuffer cb, bool all_prior) {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = all_prior ? VK_ACCESS_MEMORY_WRITE_BIT : VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  vkCmdPipelineBarrier(cb, all_prior ? VK_PIPELINE_STAGE_ALL_COMMANDS_BIT : VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

// Makes shader writes visible to the host once the fence signals, and to any
// later command on the queue (the application's next submission).
void host_barrier(VkCommandBuffer cb) {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0,
                       nullptr, 0, nullptr);
}

}  // namespace

void VkDeviceImpl::check_items(const VkKernelImpl& k, std::span<const backend::PackedItem> items) const {
  const std::uint64_t max_grid = std::uint64_t{k.workgroup_size()} * 65535u;
  for (const auto& it : items) {
    if (it.begin >= it.grid || it.grid - it.begin > max_grid || (it.begin != 0 && !k.reflection().spool_abi)) {
      throw Error(Errc::invalid_argument,
                  "kernel '" + k.desc().name + "' item " + std::to_string(it.index) + ": grid " +
                      std::to_string(it.grid) + " outside 1.." + std::to_string(max_grid),
                  "execute", {}, __FILE__, __LINE__);
    }
  }
  check_bound_buffers(k, items);
}

void VkDeviceImpl::record_dispatch(VkCommandBuffer cb, const VkKernelImpl& k,
                                   const backend::PackedItem& it, VkDescriptorSet set) const {
  const Reflection& r = k.reflection();
  if (r.spool_abi) {
    alignas(8) std::byte push[256];
    std::memcpy(push, &it.grid, 4);
    std::memcpy(push + 4, &it.index, 4);
    std::memcpy(push + 8, &it.begin, 4);
    std::memcpy(push + r.args_offset, it.args, r.arg_block_size);
    vkCmdPushConstants(cb, k.launch_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, r.push_size, push);
  } else {
    // The module's own push constants are the first push_size bytes of the block.
    if (r.push_size > 0) {
      vkCmdPushConstants(cb, k.launch_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, r.push_size, it.args);
    }
    if (set != VK_NULL_HANDLE) {
      vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.launch_layout(), 0, 1, &set, 0, nullptr);
    }
  }
  vkCmdDispatch(cb, (it.grid - it.begin + k.workgroup_size() - 1) / k.workgroup_size(), 1, 1);
}

void VkDeviceImpl::wait_fence(VkFence f, const char* what) {
  // A generous bound: a batch that takes minutes is a hung device.
  const VkResult r = vkWaitForFences(ctx_->device(), 1, &f, VK_TRUE, 600ull * 1'000'000'000ull);
  if (r == VK_TIMEOUT) {
    throw Error(Errc::timeout, std::string(what) + " did not complete within 600 s", "vkWaitForFences",
                result_name(r), __FILE__, __LINE__);
  }
  if (r != VK_SUCCESS) throw_vk(r, "vkWaitForFences", __FILE__, __LINE__);
}

backend::ExecResult VkDeviceImpl::run_launches(const VkKernelImpl& k,
                                               std::span<const backend::PackedItem> items,
                                               bool sequential) {
  const auto t0 = Clock::now();
  VkDevice d = ctx_->device();
  const std::size_t chunk = launch_cbs_[0].size();
  std::size_t pos = 0;
  int set = 0;
  while (pos < items.size()) {
    // Reuse a set of command buffers only after its last submission finished.
    if (launch_fence_pending_[set]) {
      VkFence f = launch_fences_[set].get();
      wait_fence(f, "launch chunk");
      SPOOL_VK(vkResetFences(d, 1, &f));
      launch_fence_pending_[set] = false;
    }
    SPOOL_VK(vkResetCommandPool(d, launch_pools_[set].get(), 0));
    if (k.set_layout() != VK_NULL_HANDLE) launch_sets_[set].reset(d, static_cast<std::uint32_t>(chunk));
    const std::size_t end = std::min(items.size(), pos + chunk);
    for (std::size_t i = pos; i < end; ++i) {
      VkCommandBuffer cb = launch_cbs_[set][i - pos];
      begin(cb, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT);
      // The first item waits for everything submitted to the queue before
      // (the application's work too, on a borrowed queue); later sequential
      // items for the item before.
      if (i == 0 || sequential) compute_barrier(cb, i == 0);
      vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.launch_pipeline());
      record_dispatch(cb, k, items[i],
                      k.set_layout() != VK_NULL_HANDLE ? launch_sets_[set].get(d, k, items[i].args) : VK_NULL_HANDLE);
      if (i + 1 == items.size()) host_barrier(cb);
      SPOOL_VK(vkEndCommandBuffer(cb));
      VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
      si.commandBufferCount = 1;
      si.pCommandBuffers = &cb;
      const bool last_of_chunk = i + 1 == end;
      ctx_->submit(si, last_of_chunk ? launch_fences_[set].get() : VK_NULL_HANDLE);
    }
    launch_fence_pending_[set] = true;
    pos = end;
    set ^= 1;
  }
  for (int s = 0; s < 2; ++s) {
    if (launch_fence_pending_[s]) {
      VkFence f = launch_fences_[s].get();
      wait_fence(f, "launch chunk");
      SPOOL_VK(vkResetFences(d, 1, &f));
      launch_fence_pending_[s] = false;
    }
  }
  backend::ExecResult r;
  r.wall_ns = ns_since(t0);
  r.items_run = static_cast<std::uint32_t>(items.size());
  return r;
}

backend::ExecResult VkDeviceImpl::run_recorded(const VkKernelImpl& k,
                                               std::span<const backend::PackedItem> items,
                                               bool sequential, bool use_cache) {
  const auto t0 = Clock::now();
  VkDevice d = ctx_->device();
  const std::uint32_t stride = k.desc().arg_block_size;

  // A repeated batch (same kernel, grids and argument bytes) replays the
  // command buffer recorded for it.
  Recorded* hit = nullptr;
  // Descriptor sets live for one submission: such batches are not cached.
  const bool bound = k.set_layout() != VK_NULL_HANDLE;
  if (bound) {
    use_cache = false;
    record_sets_.reset(d, sets_needed(k, items));
  }
  if (use_cache) {
    for (auto& e : recorded_cache_) {
      if (e.kernel != &k || e.sequential != sequential || e.grids.size() != items.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < items.size() && same; ++i) {
        same = e.grids[i] == items[i].grid &&
               std::memcmp(e.args.data() + i * stride, items[i].args, stride) == 0;
      }
      if (same) {
        hit = &e;
        break;
      }
    }
  }
  Recorded scratch;
  Recorded* rec = hit;
  if (rec == nullptr) {
    if (use_cache && recorded_cache_.size() < 8) {
      recorded_cache_.emplace_back();
      rec = &recorded_cache_.back();
      rec->query = static_cast<std::uint32_t>(recorded_cache_.size() - 1);
      rec->cb = [&] {
        VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        ai.commandPool = record_pool_.get();
        ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        ai.commandBufferCount = 1;
        VkCommandBuffer cb = VK_NULL_HANDLE;
        SPOOL_VK(vkAllocateCommandBuffers(d, &ai, &cb));
        return cb;
      }();
    } else if (use_cache) {
      rec = &recorded_cache_.front();
      for (auto& e : recorded_cache_) {
        if (e.last_use < rec->last_use) rec = &e;
      }
    } else {
      rec = &scratch;
      rec->query = 8;
      VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
      ai.commandPool = record_pool_.get();
      ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
      ai.commandBufferCount = 1;
      SPOOL_VK(vkAllocateCommandBuffers(d, &ai, &rec->cb));
    }
    rec->kernel = &k;
    rec->sequential = sequential;
    rec->grids.resize(items.size());
    rec->args.resize(items.size() * stride);
    for (std::size_t i = 0; i < items.size(); ++i) {
      rec->grids[i] = items[i].grid;
      std::memcpy(rec->args.data() + i * stride, items[i].args, stride);
    }
    VkCommandBuffer cb = rec->cb;
    SPOOL_VK(vkResetCommandBuffer(cb, 0));
    begin(cb, 0);
    if (queries_) {
      vkCmdResetQueryPool(cb, queries_.get(), 2 * rec->query, 2);
      vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_.get(), 2 * rec->query);
    }
    compute_barrier(cb, true);  // earlier submissions' writes are visible
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.launch_pipeline());
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (sequential && i > 0) compute_barrier(cb, false);
      record_dispatch(cb, k, items[i], bound ? record_sets_.get(d, k, items[i].args) : VK_NULL_HANDLE);
    }
    if (queries_) {
      vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_.get(), 2 * rec->query + 1);
    }
    host_barrier(cb);
    SPOOL_VK(vkEndCommandBuffer(cb));
  }
  rec->last_use = ++use_clock_;

  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &rec->cb;
  VkFence f = record_fence_.get();
  ctx_->submit(si, f);
  wait_fence(f, "recorded batch");
  SPOOL_VK(vkResetFences(d, 1, &f));

  backend::ExecResult r;
  r.wall_ns = ns_since(t0);
  r.items_run = static_cast<std::uint32_t>(items.size());
  if (queries_) {
    std::uint64_t ts[2] = {0, 0};
    const VkResult q = vkGetQueryPoolResults(d, queries_.get(), 2 * rec->query, 2, sizeof ts, ts,
                                             sizeof ts[0], VK_QUERY_RESULT_64_BIT);
    if (q == VK_SUCCESS && ts[1] >= ts[0]) {
      r.device_ns = static_cast<double>(ts[1] - ts[0]) * ctx_->physical().timestamp_period_ns;
    }
  }
  if (rec == &scratch) vkFreeCommandBuffers(d, record_pool_.get(), 1, &scratch.cb);
  return r;
}

}  // namespace spool::vulkan
