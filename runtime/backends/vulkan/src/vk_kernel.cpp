#include "vk_kernel.hpp"

#include <algorithm>
#include <chrono>

#include "spool/backend/ring_abi.h"
#include "vk_check.hpp"

namespace spool::vulkan {

namespace {

struct Pipeline {
  OwnedPipelineLayout layout;
  OwnedPipeline pipeline;
};

Pipeline make_pipeline(VkDevice d, std::span<const std::uint32_t> spirv, std::uint32_t push_size,
                       std::uint32_t wg, VkPipelineCache cache, const char* entry_point = "main",
                       bool specialize = true, VkDescriptorSetLayout set_layout = VK_NULL_HANDLE,
                       std::optional<std::uint32_t> body_loops = std::nullopt) {
  VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  mi.codeSize = spirv.size() * 4;
  mi.pCode = spirv.data();
  VkShaderModule m = VK_NULL_HANDLE;
  SPOOL_VK(vkCreateShaderModule(d, &mi, nullptr, &m));
  OwnedShader module(d, m);

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size};
  VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  li.pushConstantRangeCount = push_size > 0 ? 1 : 0;
  li.pPushConstantRanges = &range;
  li.setLayoutCount = set_layout != VK_NULL_HANDLE ? 1 : 0;
  li.pSetLayouts = &set_layout;
  VkPipelineLayout l = VK_NULL_HANDLE;
  SPOOL_VK(vkCreatePipelineLayout(d, &li, nullptr, &l));
  Pipeline out;
  out.layout = OwnedPipelineLayout(d, l);

  // constant 0: the workgroup size; persistent variant: constant 2, the
  // body's loop statements (wrap_persistent.glsl's loop-budget accounting).
  const std::uint32_t values[2] = {wg, body_loops.value_or(0)};
  const VkSpecializationMapEntry entries[2] = {{0, 0, 4}, {2, 4, 4}};
  VkSpecializationInfo spec{body_loops ? 2u : 1u, entries, body_loops ? 8u : 4u, values};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = m;
  ci.stage.pName = entry_point;
  ci.stage.pSpecializationInfo = specialize ? &spec : nullptr;
  ci.layout = l;
  VkPipeline p = VK_NULL_HANDLE;
  SPOOL_VK(vkCreateComputePipelines(d, cache, 1, &ci, nullptr, &p));
  out.pipeline = OwnedPipeline(d, p);
  return out;
}

std::string variant_string(std::uint32_t wg) { return "wg=" + std::to_string(wg); }

// Why the persistent variant cannot run correctly under the device's loop
// budget (empty: it can). A resident shader spends its budget across items,
// so a body with loops must say how many iterations one call takes.
std::string persistent_loop_problem(const LoopInfo& loops, std::uint32_t budget) {
  if (budget == 0 || loops.body_loops == 0) return {};
  if (!loops.declared_bound) {
    return "its body has loops and does not declare their bound (#define SPOOL_BODY_LOOP_BOUND <iterations "
           "per call>); this driver ends a resident shader's loops after " + std::to_string(budget) +
           " iterations in total, so the persistent mode could cut items short";
  }
  const std::uint64_t per_call = std::uint64_t{std::max(*loops.declared_bound, loops.body_loops)} + 1;
  const std::uint64_t per_pass = 4 + std::uint64_t{loops.body_loops};
  if (per_call + 4 * per_pass + SPOOL_RING_BUDGET_MARGIN + 64 > budget) {
    return "its body declares up to " + std::to_string(*loops.declared_bound) +
           " loop iterations per call (SPOOL_BODY_LOOP_BOUND), more than this driver's budget of " +
           std::to_string(budget) + " iterations for a resident shader";
  }
  return {};
}

}  // namespace

VkKernelImpl::VkKernelImpl(std::shared_ptr<Context> ctx, std::string name, std::string source_hash,
                           std::span<const std::uint32_t> launch,
                           std::span<const std::uint32_t> persistent, std::uint32_t workgroup_size,
                           std::uint32_t requested_wg,
                           std::uint32_t persistent_workgroup_size, VkPipelineCache cache,
                           std::uint32_t loop_budget)
    : ctx_(std::move(ctx)),
      wg_(workgroup_size),
      pwg_(0) {
  refl_ = reflect_kernel(launch, name);
  if (!refl_.local_size_spec) {
    // The module fixes its workgroup size; a requested one must agree.
    if (requested_wg != 0 && requested_wg != refl_.local_size_x) {
      throw Error(Errc::invalid_argument,
                  "kernel '" + name + "': its module fixes the workgroup size at " +
                      std::to_string(refl_.local_size_x) + " (requested " + std::to_string(requested_wg) + ")",
                  "load kernel", {}, __FILE__, __LINE__);
    }
    wg_ = refl_.local_size_x;
  }
  pwg_ = persistent_workgroup_size != 0 ? std::min(persistent_workgroup_size, wg_) : wg_;
  const std::uint32_t max_wg = ctx_->physical().info.limits.max_workgroup_size;
  if (wg_ == 0 || wg_ > max_wg) {
    throw Error(Errc::invalid_argument,
                "kernel '" + name + "': workgroup size " + std::to_string(wg_) +
                    " outside 1.." + std::to_string(max_wg),
                "load kernel", {}, __FILE__, __LINE__);
  }
  const std::uint32_t max_push = ctx_->physical().info.limits.max_push_constant_bytes;
  if (refl_.push_size > max_push) {
    throw Error(Errc::not_supported,
                "kernel '" + name + "': " + std::to_string(refl_.push_size) +
                    " bytes of push constants exceed the device's " + std::to_string(max_push),
                "load kernel", {}, __FILE__, __LINE__);
  }
  desc_.name = std::move(name);
  desc_.source_hash = std::move(source_hash);
  desc_.variant = variant_string(wg_);
  desc_.args = refl_.args;
  desc_.arg_block_size = refl_.arg_block_size;

  const auto t0 = std::chrono::steady_clock::now();
  VkDevice d = ctx_->device();
  if (!refl_.bindings.empty()) {
    std::vector<VkDescriptorSetLayoutBinding> b(refl_.bindings.size());
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i].binding = refl_.bindings[i];
      b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      b[i].descriptorCount = 1;
      b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo si{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    si.bindingCount = static_cast<std::uint32_t>(b.size());
    si.pBindings = b.data();
    VkDescriptorSetLayout sl = VK_NULL_HANDLE;
    SPOOL_VK(vkCreateDescriptorSetLayout(d, &si, nullptr, &sl));
    set_layout_ = OwnedDescriptorSetLayout(d, sl);
  }
  Pipeline lp = make_pipeline(d, launch, refl_.push_size, wg_, cache, refl_.entry.c_str(),
                              refl_.local_size_spec, set_layout_.get());
  launch_layout_ = std::move(lp.layout);
  launch_ = std::move(lp.pipeline);
  if (!refl_.spool_abi) {
    desc_.persistent_unavailable_reason =
        "its module does not follow the Spool kernel ABI (" + refl_.abi_mismatch +
        "), so it runs in the launches and recorded modes only; build it from a body with "
        "spool_add_kernels() to get a persistent variant";
  } else if (persistent.empty()) {
    desc_.persistent_unavailable_reason = "no persistent variant was supplied";
  } else if (refl_.arg_block_size > kSlotArgBytes) {
    desc_.persistent_unavailable_reason = "its " + std::to_string(refl_.arg_block_size) +
                                          " argument bytes exceed a queue slot's " +
                                          std::to_string(kSlotArgBytes);
  } else if (const std::string why = persistent_loop_problem(scan_loops(launch, persistent), loop_budget);
             !why.empty()) {
    desc_.persistent_unavailable_reason = why;
  } else {
    const LoopInfo loops = scan_loops(launch, persistent);
    loop_bound_ = std::max(loops.declared_bound.value_or(0), loops.body_loops);
    body_loops_ = loops.body_loops;
    Pipeline pp = make_pipeline(d, persistent, kPersistentPushBytes, pwg_, cache, "main", true, VK_NULL_HANDLE,
                                loops.body_loops);
    persistent_layout_ = std::move(pp.layout);
    persistent_ = std::move(pp.pipeline);
    desc_.has_persistent = true;
  }
  compile_ns_ = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  desc_.compile_ns = compile_ns_;
}

}  // namespace spool::vulkan
