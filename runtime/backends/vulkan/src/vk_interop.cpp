// spool::vulkan interop: devices and buffers the application owns.
#include "spool/vulkan/interop.hpp"

#include <string>

#include "spool/error.hpp"
#include "spool/options.hpp"
#include "vk_buffer.hpp"
#include "vk_device.hpp"

namespace spool::vulkan {

namespace {

[[noreturn]] void bad(const std::string& why) {
  throw Error(Errc::invalid_argument, why, "spool::vulkan::open_device", {}, __FILE__, __LINE__);
}

VkDeviceImpl& vk_impl(Device& d, const char* call) {
  auto* impl = dynamic_cast<VkDeviceImpl*>(&d.impl());
  if (impl == nullptr) {
    throw Error(Errc::invalid_argument, "device '" + d.name() + "' is not a Vulkan device", call, {},
                __FILE__, __LINE__);
  }
  return *impl;
}

}  // namespace

std::shared_ptr<Device> open_device(const BorrowedDevice& b, const DeviceOptions& options) {
  vulkan::keep_drivers_loaded();  // the application's instance loaded them (even if refused below)
  if (b.instance == VK_NULL_HANDLE) bad("BorrowedDevice::instance is null");
  if (b.physical_device == VK_NULL_HANDLE) bad("BorrowedDevice::physical_device is null");
  if (b.device == VK_NULL_HANDLE) bad("BorrowedDevice::device is null");
  if (b.queue == VK_NULL_HANDLE) bad("BorrowedDevice::queue is null");
  if (!b.buffer_device_address_enabled || !b.shader_int64_enabled) {
    bad("the borrowed VkDevice must be created with bufferDeviceAddress and shaderInt64 enabled "
        "(spool::vulkan::add_required_features), and BorrowedDevice must say so");
  }
  PhysicalDevice pd = describe_physical(b.physical_device, b.queue_family);
  if (!pd.usable) {
    throw Error(Errc::not_supported, "device '" + pd.info.name + "' cannot run Spool: " + pd.why_unusable,
                "spool::vulkan::open_device", {}, __FILE__, __LINE__);
  }
  Context::Borrowed cb;
  cb.device = b.device;
  cb.queue = b.queue;
  cb.queue_mutex = b.queue_mutex;
  cb.shared_queue = b.queue_use == QueueUse::shared;
  cb.on_release = b.on_release;
  auto ctx = std::make_shared<Context>(std::make_shared<Instance>(b.instance), pd, cb);
  auto impl = std::make_unique<VkDeviceImpl>(std::move(ctx), read_persistent_options(), b.pipeline_cache);
  return std::make_shared<Device>(std::move(impl), options);
}

Buffer wrap_buffer(Device& device, const BorrowedBuffer& b) {
  VkDeviceImpl& impl = vk_impl(device, "spool::vulkan::wrap_buffer");
  auto fail = [](const std::string& why) {
    throw Error(Errc::invalid_argument, "wrap_buffer: " + why, "spool::vulkan::wrap_buffer", {}, __FILE__,
                __LINE__);
  };
  if (b.buffer == VK_NULL_HANDLE) fail("the VkBuffer is null");
  if (b.size == 0) fail("size is 0 (pass the size the buffer was created with)");
  if (b.offset >= b.size) {
    fail("offset " + std::to_string(b.offset) + " is not inside the buffer's " + std::to_string(b.size) + " bytes");
  }
  const VkDeviceSize range = b.range == VK_WHOLE_SIZE ? b.size - b.offset : b.range;
  if (range == 0 || range > b.size - b.offset) {
    fail("range " + std::to_string(range) + " at offset " + std::to_string(b.offset) + " exceeds the buffer's " +
         std::to_string(b.size) + " bytes");
  }
  if ((b.usage & (VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT)) == 0) {
    fail("the buffer has neither VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT nor "
         "VK_BUFFER_USAGE_STORAGE_BUFFER_BIT: no kernel could use it");
  }
  // A cheap consistency check of the declared size against the driver's view.
  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(impl.context()->device(), b.buffer, &req);
  if (req.size < b.size) {
    fail("the declared size " + std::to_string(b.size) + " exceeds the buffer's memory requirement of " +
         std::to_string(req.size) + " bytes");
  }
  return Buffer(std::make_shared<VkBorrowedBuffer>(impl.context(), b.buffer, b.offset, range, b.usage, b.mapped));
}

std::shared_ptr<std::mutex> queue_mutex(Device& device) {
  return vk_impl(device, "spool::vulkan::queue_mutex").context()->queue_mutex();
}

VkDevice native_device(Device& device) {
  return vk_impl(device, "spool::vulkan::native_device").context()->device();
}

}  // namespace spool::vulkan
