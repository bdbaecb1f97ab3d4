// A Vulkan kernel: pipelines for the per-launch and the persistent variant,
// with the argument layout reflected from the SPIR-V (SPIRV-Cross).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spool/backend/backend.hpp"
#include "vk_context.hpp"
#include "vk_handles.hpp"

namespace spool::vulkan {

// Bytes of the push-constant header before the arguments: grid, item.
inline constexpr std::uint32_t kPushHeaderBytes = 8;
// Argument bytes a persistent-queue slot can hold.
inline constexpr std::uint32_t kSlotArgBytes = 96;

struct Reflection {
  std::vector<ArgSpec> args;     // offsets relative to the argument block
  std::uint32_t args_offset = 0; // where the block starts in the push constants
  std::uint32_t arg_block_size = 0;
  std::uint32_t push_size = 0;   // whole push-constant block
};

// Reflects the launch variant's push-constant block: uint spool_grid,
// uint spool_item, SpoolArgs args. Throws spool::Error(invalid_argument)
// saying what is wrong when the module does not follow the ABI.
Reflection reflect_launch_abi(std::span<const std::uint32_t> spirv, const std::string& name);

class VkKernelImpl final : public backend::KernelImpl {
 public:
  VkKernelImpl(std::shared_ptr<Context> ctx, std::string name, std::string source_hash,
               std::span<const std::uint32_t> launch, std::span<const std::uint32_t> persistent,
               std::uint32_t workgroup_size, std::uint32_t persistent_workgroup_size,
               VkPipelineCache cache);
  const backend::KernelDesc& desc() const noexcept override { return desc_; }

  VkPipeline launch_pipeline() const noexcept { return launch_.get(); }
  VkPipelineLayout launch_layout() const noexcept { return launch_layout_.get(); }
  VkPipeline persistent_pipeline() const noexcept { return persistent_.get(); }
  VkPipelineLayout persistent_layout() const noexcept { return persistent_layout_.get(); }
  std::uint32_t workgroup_size() const noexcept { return wg_; }
  std::uint32_t persistent_workgroup_size() const noexcept { return pwg_; }
  const Reflection& reflection() const noexcept { return refl_; }
  const Context* context() const noexcept { return ctx_.get(); }
  double compile_ns() const noexcept { return compile_ns_; }
  void set_tunable(bool t) noexcept { desc_.tunable = t; }

 private:
  std::shared_ptr<Context> ctx_;
  backend::KernelDesc desc_;
  Reflection refl_;
  std::uint32_t wg_;
  std::uint32_t pwg_;
  OwnedPipelineLayout launch_layout_;
  OwnedPipeline launch_;
  OwnedPipelineLayout persistent_layout_;
  OwnedPipeline persistent_;
  double compile_ns_ = 0;
};

}  // namespace spool::vulkan
