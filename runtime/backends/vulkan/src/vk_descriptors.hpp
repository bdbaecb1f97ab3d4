// Descriptor sets for the bound buffers of kernels whose SPIR-V does not
// follow the Spool ABI (storage buffers in set 0). Each arena's sets live for
// one submission: the arena is reset once that submission's fence signalled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "spool/backend/backend.hpp"
#include "vk_handles.hpp"
#include "vk_kernel.hpp"

namespace spool::vulkan {

// Checks every bound-buffer argument of the items: a live Vulkan buffer of
// this device, created with VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, offset inside
// it. Throws spool::Error(invalid_argument) naming the item and argument.
void check_bound_buffers(const VkKernelImpl& k, std::span<const backend::PackedItem> items);

// Sets a batch needs: one per run of consecutive items with the same buffers.
std::uint32_t sets_needed(const VkKernelImpl& k, std::span<const backend::PackedItem> items);

class DescriptorArena {
 public:
  // Frees every set handed out (their submission has completed) and makes
  // room for at least `sets` more.
  void reset(VkDevice d, std::uint32_t sets);
  // The set for one item: consecutive items with the same buffers share it.
  VkDescriptorSet get(VkDevice d, const VkKernelImpl& k, const std::byte* args);

 private:
  OwnedDescriptorPool pool_;
  std::uint32_t capacity_ = 0;
  std::uint32_t used_ = 0;
  const VkKernelImpl* last_kernel_ = nullptr;
  std::vector<std::byte> last_records_;
  VkDescriptorSet last_ = VK_NULL_HANDLE;
};

}  // namespace spool::vulkan
