// Vulkan instance and logical device (one per opened spool::Device).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "spool/types.hpp"
#include "vk_handles.hpp"

namespace spool::vulkan {

// ASan builds: marks every library loaded so far (the Vulkan driver, LLVM)
// RTLD_NODELETE, so that LeakSanitizer at exit still sees what the driver's
// globals point to after vkDestroyInstance unloaded it. Does nothing in
// other builds.
void keep_drivers_loaded() noexcept;

class Instance {
 public:
  // Throws spool::Error when no Vulkan loader/driver is usable.
  Instance();
  // Wraps an application's instance: never destroyed by Spool.
  // The application's instance (spool::vulkan::open_device, which keeps its
  // drivers loaded in ASan builds).
  explicit Instance(VkInstance borrowed) noexcept : h_(borrowed), owned_(false) {}
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  VkInstance get() const noexcept { return h_; }

 private:
  VkInstance h_ = VK_NULL_HANDLE;
  bool owned_ = true;
};

struct PhysicalDevice {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  DeviceInfo info;
  std::uint32_t queue_family = 0;
  std::uint32_t queue_count = 1;  // queues the family offers
  bool usable = false;
  std::string why_unusable;
  bool timestamps = false;
  double timestamp_period_ns = 1.0;
  std::uint32_t timestamp_valid_bits = 0;
  // Loop iterations a shader invocation may run in total before the driver
  // ends its loops (llvmpipe: 65535, never reset while a shader stays
  // resident); 0: no such limit.
  std::uint32_t loop_budget = 0;
};

std::vector<PhysicalDevice> enumerate_physical(VkInstance inst);
// Properties, features and the compute queue family (the first one, or
// `family` when given) of one physical device.
PhysicalDevice describe_physical(VkPhysicalDevice h, std::optional<std::uint32_t> family);

class Context {
 public:
  // Creates a logical device with one queue of pd's compute family.
  Context(std::shared_ptr<Instance> inst, const PhysicalDevice& pd);
  // Wraps an application's device and queue: nothing is created or destroyed.
  struct Borrowed {
    VkDevice device = VK_NULL_HANDLE;
    VkQueue queue = VK_NULL_HANDLE;
    std::shared_ptr<std::mutex> queue_mutex;  // shared with the application
    bool shared_queue = true;                 // the application submits to it too
    std::function<void()> on_release;         // called when Spool no longer uses the device
  };
  Context(std::shared_ptr<Instance> inst, const PhysicalDevice& pd, const Borrowed& b);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkDevice device() const noexcept { return dev_; }
  VkQueue queue() const noexcept { return queue_; }
  std::uint32_t queue_family() const noexcept { return pd_.queue_family; }
  const PhysicalDevice& physical() const noexcept { return pd_; }
  // A memory type index with all `flags` among `type_bits`; throws if none.
  std::uint32_t memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags flags) const;

  // vkQueueSubmit needs external synchronisation of the queue: every
  // submission holds queue_mutex() (shared with the application when borrowed).
  void submit(const VkSubmitInfo& info, VkFence fence);
  void wait_queue_idle();
  const std::shared_ptr<std::mutex>& queue_mutex() const noexcept { return queue_mu_; }
  bool borrowed() const noexcept { return borrowed_; }
  // The application submits its own work to this queue.
  bool shared_queue() const noexcept { return shared_queue_; }

 private:
  std::shared_ptr<Instance> inst_;
  PhysicalDevice pd_;
  VkDevice dev_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties mem_{};
  std::shared_ptr<std::mutex> queue_mu_;
  bool borrowed_ = false;
  bool shared_queue_ = false;
  std::function<void()> on_release_;
};

}  // namespace spool::vulkan
