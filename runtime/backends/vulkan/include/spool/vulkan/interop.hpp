// Using Spool from an application that already has its own Vulkan device.
//
//   * open_device() wraps the application's instance, physical device,
//     device and compute queue in a spool::Device. Spool creates nothing it
//     was given and destroys nothing it does not own.
//   * wrap_buffer() makes one of the application's VkBuffers (a range of it)
//     a kernel argument, without copies.
//   * Queue rule: every vkQueueSubmit / vkQueueWaitIdle Spool makes on the
//     borrowed queue holds queue_mutex(); the application holds the same mutex
//     around its own calls on that queue (Vulkan requires external
//     synchronisation of a VkQueue). Pass your own mutex in
//     BorrowedDevice::queue_mutex if you already have one.
//   * Ordering on a shared queue: each Spool batch starts with a barrier on
//     every write submitted to the queue before it, and ends with one that
//     makes its shader writes visible to every later command and to the host.
//   * Lifetime: the VkDevice must outlive the spool::Device and every Kernel
//     and Buffer made from it; BorrowedDevice::on_release is called when
//     Spool's last use of the device ends, after which vkDestroyDevice is safe.
//     Details and a step-by-step guide: docs/integration.md.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "spool/buffer.hpp"
#include "spool/device.hpp"
#include "spool/runtime.hpp"

namespace spool::vulkan {

enum class QueueUse : std::uint8_t {
  // The application submits to this queue too: Spool takes queue_mutex for
  // each submission and runs launches and recorded batches only (a
  // persistent kernel would hold the queue until it parks).
  shared,
  // Only Spool submits to it (e.g. the second queue of the family): all
  // three modes, persistent included.
  dedicated,
};

struct BorrowedDevice {
  VkInstance instance = VK_NULL_HANDLE;  // created with apiVersion >= 1.2
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  std::uint32_t queue_family = 0;  // `queue`'s family: must support compute
  QueueUse queue_use = QueueUse::shared;
  // Serialises submissions to `queue` with the application's; null: Spool
  // makes one (get it with queue_mutex()).
  std::shared_ptr<std::mutex> queue_mutex;
  // Used for Spool's pipelines when given, never destroyed or saved by Spool;
  // else Spool keeps its own cache next to the autotune store.
  VkPipelineCache pipeline_cache = VK_NULL_HANDLE;
  // The application enabled these when it created `device` (Spool's kernels
  // pass buffers by device address). Fill the create info with
  // add_required_features(); both must be true.
  bool buffer_device_address_enabled = false;
  bool shader_int64_enabled = false;
  // Called once Spool no longer uses the device (the spool::Device and all
  // its Kernels and Buffers are gone).
  std::function<void()> on_release;
};

// Sets the features Spool needs in a device create-info chain.
inline void add_required_features(VkPhysicalDeviceFeatures& f, VkPhysicalDeviceVulkan12Features& f12) noexcept {
  f.shaderInt64 = VK_TRUE;
  f12.bufferDeviceAddress = VK_TRUE;
}

// Wraps the application's device. Throws spool::Error(invalid_argument) for a
// null handle, undeclared features or a queue family without compute, and
// (not_supported) when the physical device lacks what Spool needs. The launch
// profile is looked up in the autotune store by device + driver, exactly as
// for a device Spool opened itself, and measured only when missing.
std::shared_ptr<Device> open_device(const BorrowedDevice& b, const DeviceOptions& options = {});

struct BorrowedBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize size = 0;            // the size it was created with
  VkDeviceSize offset = 0;          // start of the range Spool may use
  VkDeviceSize range = VK_WHOLE_SIZE;  // bytes from offset (VK_WHOLE_SIZE: to the end)
  VkBufferUsageFlags usage = 0;     // the usage it was created with
  // Host pointer to byte `offset` when the application mapped it
  // (host-coherent memory); enables Buffer::data().
  void* mapped = nullptr;
};

// A spool::Buffer over the application's VkBuffer. Spool never frees it; it
// must stay alive until every batch that uses it has completed. Buffer-
// reference arguments need VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT (and
// memory allocated with VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT); descriptor-
// bound arguments of ABI-less modules need VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.
Buffer wrap_buffer(Device& device, const BorrowedBuffer& b);

// The mutex Spool holds around its submissions to the device's queue.
std::shared_ptr<std::mutex> queue_mutex(Device& device);

// The VkDevice behind a spool::Device (its own or a borrowed one).
VkDevice native_device(Device& device);

}  // namespace spool::vulkan
