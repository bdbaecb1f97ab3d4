// Vulkan instance and logical device (one per opened spool::Device).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "spool/types.hpp"
#include "vk_handles.hpp"

namespace spool::vulkan {

class Instance {
 public:
  // Throws spool::Error when no Vulkan loader/driver is usable.
  Instance();
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  VkInstance get() const noexcept { return h_; }

 private:
  VkInstance h_ = VK_NULL_HANDLE;
};

struct PhysicalDevice {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  DeviceInfo info;
  std::uint32_t queue_family = 0;
  bool usable = false;
  std::string why_unusable;
  bool timestamps = false;
  double timestamp_period_ns = 1.0;
  std::uint32_t timestamp_valid_bits = 0;
};

std::vector<PhysicalDevice> enumerate_physical(VkInstance inst);

class Context {
 public:
  Context(std::shared_ptr<Instance> inst, const PhysicalDevice& pd);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkDevice device() const noexcept { return dev_; }
  VkQueue queue() const noexcept { return queue_; }
  std::uint32_t queue_family() const noexcept { return pd_.queue_family; }
  const PhysicalDevice& physical() const noexcept { return pd_; }
  // A memory type index with all `flags` among `type_bits`; throws if none.
  std::uint32_t memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags flags) const;

  // vkQueueSubmit needs external synchronisation of the queue.
  void submit(const VkSubmitInfo& info, VkFence fence);

 private:
  std::shared_ptr<Instance> inst_;
  PhysicalDevice pd_;
  VkDevice dev_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties mem_{};
  std::mutex queue_mu_;
};

}  // namespace spool::vulkan
