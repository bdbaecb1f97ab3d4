// A Vulkan kernel: pipelines for the per-launch and the persistent variant,
// with the argument layout reflected from the SPIR-V (SPIRV-Cross).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spool/backend/backend.hpp"
#include "vk_context.hpp"
#include "vk_handles.hpp"

namespace spool::vulkan {

// Bytes of the push-constant header before the arguments: grid, item, base.
inline constexpr std::uint32_t kPushHeaderBytes = 12;
// Push constants of the persistent variant: ring, device control block, ring address.
inline constexpr std::uint32_t kPersistentPushBytes = 24;
// Argument bytes a persistent-queue slot can hold.
inline constexpr std::uint32_t kSlotArgBytes = 96;

// Storage buffers an ABI-less module may bind (descriptor set 0).
inline constexpr std::uint32_t kMaxBindings = 16;
// Packed-argument bytes of one bound buffer: {BufferImpl*, byte offset}.
inline constexpr std::uint32_t kBindingRecordBytes = 16;

struct Reflection {
  bool spool_abi = true;          // push constants {spool_grid, spool_item, spool_base, SpoolArgs}
  std::string abi_mismatch;       // why not, when !spool_abi
  std::vector<ArgSpec> args;      // offsets relative to the packed argument block
  std::uint32_t args_offset = 0;  // ABI: where SpoolArgs starts in the push constants
  std::uint32_t arg_block_size = 0;
  std::uint32_t push_size = 0;    // whole push-constant block (0: none)
  std::vector<std::uint32_t> bindings;  // ABI-less: binding of each bound_buffer argument, in order
  std::string entry = "main";
  bool local_size_spec = true;    // local_size_x is specialization constant 0
  std::uint32_t local_size_x = 1; // its literal (or default) value
};

// Throws spool::Error(invalid_argument) with the validator's first message
// unless `spirv` is a valid SPIR-V module for Vulkan 1.2 (SPIRV-Tools).
void validate_spirv(std::span<const std::uint32_t> spirv, const std::string& name);

// Validates (validate_spirv), then reflects a compute module. A module
// following the Spool ABI (push constants uint spool_grid, spool_item,
// spool_base, SpoolArgs args; workgroup size
// from constant_id 0) gets the ABI layout; any other module gets its own push
// constants and set-0 storage buffers as arguments (spool_abi = false).
// Throws spool::Error(invalid_argument) saying what is wrong when the module
// is not SPIR-V or uses something Spool cannot pass (images, uniforms, ...).
Reflection reflect_kernel(std::span<const std::uint32_t> spirv, const std::string& name);

// A module kept to build other variants of it (autotune racing).
struct ModuleSource {
  std::string name;
  std::string source_hash;
  std::vector<std::uint32_t> launch, persistent;
  std::vector<std::uint32_t> race_workgroups;
};
// What a persistent queue on a device with a loop budget needs to know of a
// body: whether it has loops (OpLoopMerge in the launch module, whose own
// main has none) and the bound it declares per call (specialization
// constant 1 of the persistent module; nullopt when not declared).
struct LoopInfo {
  std::uint32_t body_loops = 0;
  std::optional<std::uint32_t> declared_bound;
};
LoopInfo scan_loops(std::span<const std::uint32_t> launch, std::span<const std::uint32_t> persistent);

class VkKernelImpl final : public backend::KernelImpl {
 public:
  VkKernelImpl(std::shared_ptr<Context> ctx, std::string name, std::string source_hash,
               std::span<const std::uint32_t> launch, std::span<const std::uint32_t> persistent,
               std::uint32_t workgroup_size, std::uint32_t requested_wg,
               std::uint32_t persistent_workgroup_size,
               VkPipelineCache cache, std::uint32_t loop_budget);
  // Loop iterations one call of the body may take in the persistent variant
  // (its declared bound, 0 for a body without loops).
  std::uint32_t body_loop_bound() const noexcept { return loop_bound_; }
  // Loop statements in the body (each costs a pass even when skipped).
  std::uint32_t body_loops() const noexcept { return body_loops_; }
  const backend::KernelDesc& desc() const noexcept override { return desc_; }

  VkPipeline launch_pipeline() const noexcept { return launch_.get(); }
  VkPipelineLayout launch_layout() const noexcept { return launch_layout_.get(); }
  VkPipeline persistent_pipeline() const noexcept { return persistent_.get(); }
  VkPipelineLayout persistent_layout() const noexcept { return persistent_layout_.get(); }
  // ABI-less modules with storage buffers: the set-0 layout (else null).
  VkDescriptorSetLayout set_layout() const noexcept { return set_layout_.get(); }
  std::uint32_t workgroup_size() const noexcept { return wg_; }
  std::uint32_t persistent_workgroup_size() const noexcept { return pwg_; }
  const Reflection& reflection() const noexcept { return refl_; }
  const Context* context() const noexcept { return ctx_.get(); }
  double compile_ns() const noexcept { return compile_ns_; }
  void set_tunable(bool t) noexcept { desc_.tunable = t; }
  // A module kernel that may race: its words, to load the other variants.
  void set_module(std::shared_ptr<const ModuleSource> m) {
    desc_.tunable = m != nullptr;
    desc_.race_workgroups = m != nullptr ? m->race_workgroups : std::vector<std::uint32_t>{};
    module_ = std::move(m);
  }
  const std::shared_ptr<const ModuleSource>& module() const noexcept { return module_; }

 private:
  std::shared_ptr<Context> ctx_;
  OwnedDescriptorSetLayout set_layout_;
  backend::KernelDesc desc_;
  Reflection refl_;
  std::uint32_t wg_;
  std::uint32_t pwg_;
  OwnedPipelineLayout launch_layout_;
  OwnedPipeline launch_;
  OwnedPipelineLayout persistent_layout_;
  OwnedPipeline persistent_;
  double compile_ns_ = 0;
  std::shared_ptr<const ModuleSource> module_;  // null: a built-in, or not tunable
  std::uint32_t loop_bound_ = 0;
  std::uint32_t body_loops_ = 0;
};

}  // namespace spool::vulkan
