// A Vulkan buffer with its memory, mapped when host visible, addressed by
// device address (the kernels' ABI passes buffers as addresses).
#pragma once

#include <memory>

#include "spool/backend/backend.hpp"
#include "vk_context.hpp"
#include "vk_handles.hpp"

namespace spool::vulkan {

// What the backend needs of any Vulkan buffer, Spool's or the application's:
// the handle and where the buffer's bytes start in it (descriptor bindings).
class VkBufferRef : public backend::BufferImpl {
 public:
  virtual VkBuffer handle() const noexcept = 0;
  virtual VkDeviceSize base_offset() const noexcept = 0;
  virtual bool storage_usage() const noexcept = 0;  // VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
  virtual const Context* context() const noexcept = 0;
};

class VkBufferImpl final : public VkBufferRef {
 public:
  // guarded: validation mode (spool/backend/guards.hpp). The memory is then
  // host visible and mapped even for a device-local buffer, so the guards
  // can be read (host_ptr() stays null unless host_visible).
  VkBufferImpl(std::shared_ptr<Context> ctx, std::uint64_t bytes, bool host_visible, bool guarded = false);
  ~VkBufferImpl() override;
  std::uint64_t size() const noexcept override { return size_; }
  void* host_ptr() const noexcept override { return host_visible_ ? payload() : nullptr; }
  std::uint64_t device_address() const noexcept override { return address_; }
  bool guarded() const noexcept override { return guarded_; }
  backend::GuardDamage check_guards() override;
  VkBuffer handle() const noexcept override { return buffer_.get(); }
  VkDeviceSize base_offset() const noexcept override { return guards_.front; }
  bool storage_usage() const noexcept override { return true; }
  const Context* context() const noexcept override { return ctx_.get(); }

 private:
  void* payload() const noexcept { return mapped_ != nullptr ? static_cast<std::byte*>(mapped_) + guards_.front : nullptr; }

  std::shared_ptr<Context> ctx_;  // the device outlives its buffers
  std::uint64_t size_;
  bool host_visible_;
  bool guarded_;
  backend::GuardLayout guards_;  // zero unless guarded
  OwnedBuffer buffer_;
  OwnedMemory memory_;
  void* mapped_ = nullptr;        // the whole allocation, guards included
  std::uint64_t address_ = 0;     // the payload's
};

// An application's VkBuffer (a range of it): never destroyed by Spool.
class VkBorrowedBuffer final : public VkBufferRef {
 public:
  VkBorrowedBuffer(std::shared_ptr<Context> ctx, VkBuffer buffer, VkDeviceSize offset,
                   VkDeviceSize range, VkBufferUsageFlags usage, void* mapped);
  std::uint64_t size() const noexcept override { return range_; }
  void* host_ptr() const noexcept override { return mapped_; }
  std::uint64_t device_address() const noexcept override { return address_; }
  VkBuffer handle() const noexcept override { return buffer_; }
  VkDeviceSize base_offset() const noexcept override { return offset_; }
  bool storage_usage() const noexcept override {
    return (usage_ & VK_BUFFER_USAGE_STORAGE_BUFFER_BIT) != 0;
  }
  const Context* context() const noexcept override { return ctx_.get(); }

 private:
  std::shared_ptr<Context> ctx_;  // keeps Spool's use of the device visible (on_release)
  VkBuffer buffer_;
  VkDeviceSize offset_;
  VkDeviceSize range_;
  VkBufferUsageFlags usage_;
  void* mapped_;
  std::uint64_t address_ = 0;  // 0 without VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT
};

}  // namespace spool::vulkan
