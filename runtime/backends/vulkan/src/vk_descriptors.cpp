#include "vk_descriptors.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "spool/error.hpp"
#include "vk_buffer.hpp"
#include "vk_check.hpp"

namespace spool::vulkan {

namespace {

struct Record {
  const VkBufferRef* buffer;
  std::uint64_t offset;
};

// Where the bound-buffer records sit in a packed block: they are the last
// arguments, contiguous (reflect_plain lays them out so).
std::pair<std::uint32_t, std::size_t> binding_records(const Reflection& r) {
  return {r.args[r.args.size() - r.bindings.size()].offset, r.bindings.size() * kBindingRecordBytes};
}

Record read_record(const std::byte* args, const ArgSpec& s) {
  std::uint64_t raw[2];
  std::memcpy(raw, args + s.offset, sizeof raw);
  const auto* impl = reinterpret_cast<const backend::BufferImpl*>(static_cast<std::uintptr_t>(raw[0]));
  return {dynamic_cast<const VkBufferRef*>(impl), raw[1]};
}

}  // namespace

void check_bound_buffers(const VkKernelImpl& k, std::span<const backend::PackedItem> items) {
  if (k.reflection().bindings.empty()) return;
  for (const auto& it : items) {
    for (const ArgSpec& s : k.desc().args) {
      if (s.kind != ArgKind::bound_buffer) continue;
      const Record r = read_record(it.args, s);
      const std::string where = "kernel '" + k.desc().name + "' item " + std::to_string(it.index) +
                                " argument '" + s.name + "'";
      if (r.buffer == nullptr || r.buffer->context() != k.context()) {
        throw Error(Errc::invalid_argument, where + ": not a Vulkan buffer of this device", "execute", {},
                    __FILE__, __LINE__);
      }
      if (!r.buffer->storage_usage()) {
        throw Error(Errc::invalid_argument,
                    where + ": the buffer was not created with VK_BUFFER_USAGE_STORAGE_BUFFER_BIT",
                    "execute", {}, __FILE__, __LINE__);
      }
      if (r.offset >= r.buffer->size()) {
        throw Error(Errc::invalid_argument, where + ": offset past the end of the buffer", "execute", {},
                    __FILE__, __LINE__);
      }
    }
  }
}

std::uint32_t sets_needed(const VkKernelImpl& k, std::span<const backend::PackedItem> items) {
  if (k.reflection().bindings.empty() || items.empty()) return 0;
  const auto [first, bytes] = binding_records(k.reflection());
  std::uint32_t n = 1;
  for (std::size_t i = 1; i < items.size(); ++i) {
    if (std::memcmp(items[i].args + first, items[i - 1].args + first, bytes) != 0) ++n;
  }
  return n;
}

void DescriptorArena::reset(VkDevice d, std::uint32_t sets) {
  last_kernel_ = nullptr;
  last_ = VK_NULL_HANDLE;
  used_ = 0;
  if (pool_ && capacity_ >= sets) {
    SPOOL_VK(vkResetDescriptorPool(d, pool_.get(), 0));
    return;
  }
  pool_.reset();
  capacity_ = std::max<std::uint32_t>(sets, 64);
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, capacity_ * kMaxBindings};
  VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  ci.maxSets = capacity_;
  ci.poolSizeCount = 1;
  ci.pPoolSizes = &size;
  VkDescriptorPool p = VK_NULL_HANDLE;
  SPOOL_VK(vkCreateDescriptorPool(d, &ci, nullptr, &p));
  pool_ = OwnedDescriptorPool(d, p);
}

VkDescriptorSet DescriptorArena::get(VkDevice d, const VkKernelImpl& k, const std::byte* args) {
  const Reflection& r = k.reflection();
  const auto [first, bytes] = binding_records(r);
  if (last_kernel_ == &k && std::memcmp(last_records_.data(), args + first, bytes) == 0) return last_;
  if (used_ == capacity_) {
    throw Error(Errc::backend, "descriptor arena exhausted (" + std::to_string(capacity_) + " sets)",
                "vkAllocateDescriptorSets", {}, __FILE__, __LINE__);
  }
  VkDescriptorSetLayout layout = k.set_layout();
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorPool = pool_.get();
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  SPOOL_VK(vkAllocateDescriptorSets(d, &ai, &set));
  ++used_;
  VkDescriptorBufferInfo infos[kMaxBindings];
  VkWriteDescriptorSet writes[kMaxBindings];
  std::size_t j = 0;
  for (const ArgSpec& s : r.args) {
    if (s.kind != ArgKind::bound_buffer) continue;
    const Record rec = read_record(args, s);
    infos[j] = VkDescriptorBufferInfo{rec.buffer->handle(), rec.buffer->base_offset() + rec.offset,
                                      rec.buffer->size() - rec.offset};
    writes[j] = VkWriteDescriptorSet{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[j].dstSet = set;
    writes[j].dstBinding = r.bindings[j];
    writes[j].descriptorCount = 1;
    writes[j].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[j].pBufferInfo = &infos[j];
    ++j;
  }
  vkUpdateDescriptorSets(d, static_cast<std::uint32_t>(j), writes, 0, nullptr);
  last_kernel_ = &k;
  last_records_.assign(args + first, args + first + bytes);
  last_ = set;
  return set;
}

}  // namespace spool::vulkan
