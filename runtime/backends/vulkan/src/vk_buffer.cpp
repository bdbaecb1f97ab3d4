#include "vk_buffer.hpp"

#include <cstring>

#include "vk_check.hpp"

namespace spool::vulkan {

VkBufferImpl::VkBufferImpl(std::shared_ptr<Context> ctx, std::uint64_t bytes, bool host_visible, bool guarded)
    : ctx_(std::move(ctx)), size_(bytes), host_visible_(host_visible), guarded_(guarded) {
  if (guarded_) guards_ = backend::guard_layout(bytes);
  VkDevice d = ctx_->device();
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = guards_.front + bytes + guards_.back;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT |
             VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer b = VK_NULL_HANDLE;
  SPOOL_VK(vkCreateBuffer(d, &bi, nullptr, &b));
  buffer_ = OwnedBuffer(d, b);

  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(d, b, &req);
  constexpr VkMemoryPropertyFlags kHost = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  std::uint32_t type = 0;
  if (host_visible) {
    type = ctx_->memory_type(req.memoryTypeBits, kHost);
  } else if (guarded_) {
    // The guards must be readable: device-local and host-visible if the
    // device has such memory (lavapipe, resizable BAR), else host memory.
    try {
      type = ctx_->memory_type(req.memoryTypeBits, kHost | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    } catch (const Error&) {
      type = ctx_->memory_type(req.memoryTypeBits, kHost);
    }
  } else {
    type = ctx_->memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  }
  VkMemoryAllocateFlagsInfo fi{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
  fi.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.pNext = &fi;
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = type;
  VkDeviceMemory m = VK_NULL_HANDLE;
  SPOOL_VK(vkAllocateMemory(d, &ai, nullptr, &m));
  memory_ = OwnedMemory(d, m);
  SPOOL_VK(vkBindBufferMemory(d, b, m, 0));
  if (host_visible || guarded_) {
    SPOOL_VK(vkMapMemory(d, m, 0, VK_WHOLE_SIZE, 0, &mapped_));
    std::memset(payload(), 0, bytes);
  }
  if (guarded_) {
    backend::fill_guard(mapped_, guards_.front);
    backend::fill_guard(static_cast<std::byte*>(payload()) + bytes, guards_.back);
  }
  VkBufferDeviceAddressInfo da{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
  da.buffer = b;
  address_ = vkGetBufferDeviceAddress(d, &da) + guards_.front;
}

backend::GuardDamage VkBufferImpl::check_guards() {
  if (!guarded_) return {};
  // Host-coherent memory: the device's writes are visible once its work
  // completed, which is when the runtime checks.
  return backend::check_and_restore_guards(static_cast<std::byte*>(payload()), size_, guards_);
}

VkBufferImpl::~VkBufferImpl() {
  if (mapped_ != nullptr) vkUnmapMemory(ctx_->device(), memory_.get());
  buffer_.reset();
  memory_.reset();
}

VkBorrowedBuffer::VkBorrowedBuffer(std::shared_ptr<Context> ctx, VkBuffer buffer, VkDeviceSize offset,
                                   VkDeviceSize range, VkBufferUsageFlags usage, void* mapped)
    : ctx_(std::move(ctx)), buffer_(buffer), offset_(offset), range_(range), usage_(usage), mapped_(mapped) {
  if ((usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) != 0) {
    VkBufferDeviceAddressInfo da{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
    da.buffer = buffer;
    address_ = vkGetBufferDeviceAddress(ctx_->device(), &da) + offset;
  }
}

}  // namespace spool::vulkan
