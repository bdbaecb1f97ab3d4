// RAII wrappers for every Vulkan handle Spool creates.
#pragma once

#include <vulkan/vulkan.h>

#include <utility>

namespace spool::vulkan {

// Owns one device-level handle; destroyed with `Destroy` on its device.
template <class H, void (*Destroy)(VkDevice, H, const VkAllocationCallbacks*)>
class Owned {
 public:
  Owned() = default;
  Owned(VkDevice d, H h) : d_(d), h_(h) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& o) noexcept : d_(o.d_), h_(std::exchange(o.h_, VK_NULL_HANDLE)) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      reset();
      d_ = o.d_;
      h_ = std::exchange(o.h_, VK_NULL_HANDLE);
    }
    return *this;
  }
  ~Owned() { reset(); }
  void reset() noexcept {
    if (h_ != VK_NULL_HANDLE) Destroy(d_, h_, nullptr);
    h_ = VK_NULL_HANDLE;
  }
  H get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != VK_NULL_HANDLE; }

 private:
  VkDevice d_ = VK_NULL_HANDLE;
  H h_ = VK_NULL_HANDLE;
};

using OwnedBuffer = Owned<VkBuffer, vkDestroyBuffer>;
using OwnedMemory = Owned<VkDeviceMemory, vkFreeMemory>;
using OwnedShader = Owned<VkShaderModule, vkDestroyShaderModule>;
using OwnedPipelineLayout = Owned<VkPipelineLayout, vkDestroyPipelineLayout>;
using OwnedPipeline = Owned<VkPipeline, vkDestroyPipeline>;
using OwnedCommandPool = Owned<VkCommandPool, vkDestroyCommandPool>;
using OwnedFence = Owned<VkFence, vkDestroyFence>;
using OwnedQueryPool = Owned<VkQueryPool, vkDestroyQueryPool>;
using OwnedPipelineCache = Owned<VkPipelineCache, vkDestroyPipelineCache>;
using OwnedDescriptorSetLayout = Owned<VkDescriptorSetLayout, vkDestroyDescriptorSetLayout>;
using OwnedDescriptorPool = Owned<VkDescriptorPool, vkDestroyDescriptorPool>;

}  // namespace spool::vulkan
