// The `persistent` mode's Vulkan part: the driver of the core's persistent
// queue (spool/backend/persistent_queue.hpp), which does the bookkeeping,
// the watchdog and recovery. Here: submit the resident shader over the ring,
// ask its fence whether it stopped, run fallback items as launches.
#include <algorithm>

#include "spool/backend/ring_abi.h"
#include "vk_check.hpp"
#include "vk_device.hpp"

namespace spool::vulkan {

void VkDeviceImpl::launch(const backend::KernelImpl& kernel, bool fresh) {
  const auto& k = static_cast<const VkKernelImpl&>(kernel);
  auto* words = static_cast<std::uint32_t*>(ring_->host_ptr());
  // The device control block lives in the ring's device line: a fresh ring
  // was zeroed by the queue; a resumed one keeps HEAD and clears RETIRE.
  if (!fresh) words[SPOOL_RING_DCTL_IN_RING + SPOOL_RING_DCTL_RETIRE] = 0;
  VkDevice d = ctx_->device();
  VkFence f = persistent_fence_.get();
  SPOOL_VK(vkResetFences(d, 1, &f));
  VkCommandBuffer cb = persistent_cb_;
  SPOOL_VK(vkResetCommandBuffer(cb, 0));
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  SPOOL_VK(vkBeginCommandBuffer(cb, &bi));
  // Earlier submissions' writes (fallback launches, the application's work
  // on a borrowed queue) are visible to the items.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                       0, nullptr, 0, nullptr);
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.persistent_pipeline());
  const std::uint64_t addr = ring_->device_address();
  const std::uint64_t push[3] = {addr, addr + SPOOL_RING_DCTL_IN_RING * 4ull, addr};
  static_assert(sizeof push == kPersistentPushBytes);
  vkCmdPushConstants(cb, k.persistent_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, push);
  vkCmdDispatch(cb, groups_, 1, 1);
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0, nullptr, 0,
                       nullptr);
  SPOOL_VK(vkEndCommandBuffer(cb));
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  ctx_->submit(si, f);
}

namespace {
backend::KernelRun run_state(VkResult r, std::string* why) {
  if (r == VK_SUCCESS) return backend::KernelRun::stopped;
  if (r == VK_NOT_READY || r == VK_TIMEOUT) return backend::KernelRun::running;
  if (why != nullptr) *why = std::string("vkGetFenceStatus: ") + result_name(r);
  return backend::KernelRun::faulted;
}
}  // namespace

backend::KernelRun VkDeviceImpl::poll(std::string* why) {
  return run_state(vkGetFenceStatus(ctx_->device(), persistent_fence_.get()), why);
}

backend::KernelRun VkDeviceImpl::wait(std::chrono::milliseconds timeout, std::string* why) {
  const VkFence f = persistent_fence_.get();
  const auto ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(timeout).count());
  const VkResult r = vkWaitForFences(ctx_->device(), 1, &f, VK_TRUE, ns);
  return run_state(r == VK_TIMEOUT ? VK_NOT_READY : r, why);
}

void VkDeviceImpl::run_fallback(const backend::KernelImpl& k, std::span<const backend::PackedItem> items,
                                bool sequential) {
  run_launches(static_cast<const VkKernelImpl&>(k), items, sequential);
}

// A chunk keeps a slot's cost well inside a loop budget: a quarter of it
// (wrap_persistent.glsl: a call costs 1 + the body's loop bound).
std::uint32_t VkDeviceImpl::max_chunk(const backend::KernelImpl& kernel) const {
  const auto& k = static_cast<const VkKernelImpl&>(kernel);
  const std::uint32_t pwg = std::max<std::uint32_t>(k.persistent_workgroup_size(), 1);
  const std::uint32_t budget = ctx_->physical().loop_budget;
  if (budget == 0) return pwg * 256;  // spread large items over the resident workgroups
  const std::uint64_t calls = std::max<std::uint64_t>(1, (budget / 4) / (std::uint64_t{k.body_loop_bound()} + 1));
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(calls * pwg, 0x7fffffffu));
}

}  // namespace spool::vulkan
