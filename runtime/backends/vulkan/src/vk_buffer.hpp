// A Vulkan buffer with its memory, mapped when host visible, addressed by
// device address (the kernels' ABI passes buffers as addresses).
#pragma once

#include <memory>

#include "spool/backend/backend.hpp"
#include "vk_context.hpp"
#include "vk_handles.hpp"

namespace spool::vulkan {

class VkBufferImpl final : public backend::BufferImpl {
 public:
  VkBufferImpl(std::shared_ptr<Context> ctx, std::uint64_t bytes, bool host_visible);
  ~VkBufferImpl() override;
  std::uint64_t size() const noexcept override { return size_; }
  void* host_ptr() const noexcept override { return mapped_; }
  std::uint64_t device_address() const noexcept override { return address_; }
  VkBuffer handle() const noexcept { return buffer_.get(); }

 private:
  std::shared_ptr<Context> ctx_;  // the device outlives its buffers
  std::uint64_t size_;
  OwnedBuffer buffer_;
  OwnedMemory memory_;
  void* mapped_ = nullptr;
  std::uint64_t address_ = 0;
};

}  // namespace spool::vulkan
