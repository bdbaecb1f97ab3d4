// A minimal "existing Vulkan application": its own instance, device, queue,
// buffers and compute pipeline, written with the plain Vulkan API and no
// Spool types. The vk_interop sample and tests/runtime/vk_interop_test.cpp
// hand these objects to Spool.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace app {

inline void check(VkResult r, const char* call) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string(call) + " failed: VkResult " + std::to_string(r));
}

inline std::vector<std::uint32_t> read_spirv(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.empty() || bytes.size() % 4 != 0) throw std::runtime_error("cannot read SPIR-V " + path);
  std::vector<std::uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  VkBufferUsageFlags usage = 0;
  float* data = nullptr;  // host-visible, coherent, mapped
};

// The app's own kernel: app_scale.comp (binding 0: floats; push: n, factor).
struct ScalePipeline {
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkDescriptorPool pool = VK_NULL_HANDLE;
};

class Vulkan {
 public:
  // Throws std::runtime_error when there is no Vulkan 1.2 device with a
  // compute queue and buffer device addresses.
  Vulkan() {
    VkApplicationInfo ai{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    ai.pApplicationName = "spool-interop-app";
    ai.apiVersion = VK_API_VERSION_1_2;
    VkInstanceCreateInfo ii{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ii.pApplicationInfo = &ai;
    check(vkCreateInstance(&ii, nullptr, &instance), "vkCreateInstance");
    std::uint32_t n = 0;
    vkEnumeratePhysicalDevices(instance, &n, nullptr);
    std::vector<VkPhysicalDevice> pds(n);
    vkEnumeratePhysicalDevices(instance, &n, pds.data());
    for (VkPhysicalDevice pd : pds) {
      VkPhysicalDeviceProperties p{};
      vkGetPhysicalDeviceProperties(pd, &p);
      if (p.apiVersion < VK_API_VERSION_1_2) continue;
      std::uint32_t qn = 0;
      vkGetPhysicalDeviceQueueFamilyProperties(pd, &qn, nullptr);
      std::vector<VkQueueFamilyProperties> qf(qn);
      vkGetPhysicalDeviceQueueFamilyProperties(pd, &qn, qf.data());
      for (std::uint32_t i = 0; i < qn; ++i) {
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0) {
          physical = pd;
          family = i;
          queue_count = qf[i].queueCount;
          name = p.deviceName;
          break;
        }
      }
      if (physical != VK_NULL_HANDLE) break;
    }
    if (physical == VK_NULL_HANDLE) {
      vkDestroyInstance(instance, nullptr);
      throw std::runtime_error("no Vulkan 1.2 device with a compute queue");
    }
    // Features Spool needs (spool::vulkan::add_required_features does the same).
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    f12.bufferDeviceAddress = VK_TRUE;
    VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f.pNext = &f12;
    f.features.shaderInt64 = VK_TRUE;
    const float prio[2] = {1.0f, 1.0f};
    VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    q.queueFamilyIndex = family;
    q.queueCount = queue_count >= 2 ? 2 : 1;  // a second queue, where there is one, for Spool alone
    q.pQueuePriorities = prio;
    VkDeviceCreateInfo di{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    di.pNext = &f;
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &q;
    const VkResult r = vkCreateDevice(physical, &di, nullptr, &device);
    if (r != VK_SUCCESS) {
      vkDestroyInstance(instance, nullptr);
      check(r, "vkCreateDevice");
    }
    vkGetDeviceQueue(device, family, 0, &queue);
    if (queue_count >= 2) vkGetDeviceQueue(device, family, 1, &second_queue);
    vkGetPhysicalDeviceMemoryProperties(physical, &mem_);
  }

  ~Vulkan() {
    vkDeviceWaitIdle(device);
    vkDestroyDevice(device, nullptr);
    vkDestroyInstance(instance, nullptr);
  }
  Vulkan(const Vulkan&) = delete;
  Vulkan& operator=(const Vulkan&) = delete;

  Buffer make_buffer(VkDeviceSize bytes,
                     VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                                VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) {
    Buffer b;
    b.size = bytes;
    b.usage = usage;
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = bytes;
    bi.usage = usage;
    check(vkCreateBuffer(device, &bi, nullptr, &b.buffer), "vkCreateBuffer");
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device, b.buffer, &req);
    VkMemoryAllocateFlagsInfo fi{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
    fi.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.pNext = (usage & VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT) != 0 ? &fi : nullptr;
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                             VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    check(vkAllocateMemory(device, &ai, nullptr, &b.memory), "vkAllocateMemory");
    check(vkBindBufferMemory(device, b.buffer, b.memory, 0), "vkBindBufferMemory");
    void* p = nullptr;
    check(vkMapMemory(device, b.memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    b.data = static_cast<float*>(p);
    return b;
  }

  void destroy(Buffer& b) {
    if (b.buffer == VK_NULL_HANDLE) return;
    vkDestroyBuffer(device, b.buffer, nullptr);
    vkFreeMemory(device, b.memory, nullptr);
    b = Buffer{};
  }

  ScalePipeline make_scale_pipeline(const std::vector<std::uint32_t>& spirv) {
    ScalePipeline s;
    VkDescriptorSetLayoutBinding bind{0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo si{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    si.bindingCount = 1;
    si.pBindings = &bind;
    check(vkCreateDescriptorSetLayout(device, &si, nullptr, &s.set_layout), "vkCreateDescriptorSetLayout");
    VkPushConstantRange pr{VK_SHADER_STAGE_COMPUTE_BIT, 0, 8};
    VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    li.setLayoutCount = 1;
    li.pSetLayouts = &s.set_layout;
    li.pushConstantRangeCount = 1;
    li.pPushConstantRanges = &pr;
    check(vkCreatePipelineLayout(device, &li, nullptr, &s.layout), "vkCreatePipelineLayout");
    VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    mi.codeSize = spirv.size() * 4;
    mi.pCode = spirv.data();
    VkShaderModule m = VK_NULL_HANDLE;
    check(vkCreateShaderModule(device, &mi, nullptr, &m), "vkCreateShaderModule");
    VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = m;
    ci.stage.pName = "main";
    ci.layout = s.layout;
    const VkResult r = vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &ci, nullptr, &s.pipeline);
    vkDestroyShaderModule(device, m, nullptr);
    check(r, "vkCreateComputePipelines");
    VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 16};
    VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pi.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
    pi.maxSets = 16;
    pi.poolSizeCount = 1;
    pi.pPoolSizes = &ps;
    check(vkCreateDescriptorPool(device, &pi, nullptr, &s.pool), "vkCreateDescriptorPool");
    return s;
  }

  void destroy(ScalePipeline& s) {
    vkDestroyDescriptorPool(device, s.pool, nullptr);
    vkDestroyPipeline(device, s.pipeline, nullptr);
    vkDestroyPipelineLayout(device, s.layout, nullptr);
    vkDestroyDescriptorSetLayout(device, s.set_layout, nullptr);
    s = ScalePipeline{};
  }

  // The app's own work: data[i] *= factor for i < n, submitted to `queue`
  // holding `queue_mutex` (the rule Spool follows too). Returns without
  // waiting; call finish() to wait.
  void scale(ScalePipeline& s, const Buffer& b, std::uint32_t n, float factor) {
    Pending p;
    VkDescriptorSetAllocateInfo dai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    dai.descriptorPool = s.pool;
    dai.descriptorSetCount = 1;
    dai.pSetLayouts = &s.set_layout;
    check(vkAllocateDescriptorSets(device, &dai, &p.set), "vkAllocateDescriptorSets");
    p.pool = s.pool;
    VkDescriptorBufferInfo info{b.buffer, 0, VK_WHOLE_SIZE};
    VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    w.dstSet = p.set;
    w.descriptorCount = 1;
    w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w.pBufferInfo = &info;
    vkUpdateDescriptorSets(device, 1, &w, 0, nullptr);

    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.queueFamilyIndex = family;
    check(vkCreateCommandPool(device, &pci, nullptr, &p.cmd_pool), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    cai.commandPool = p.cmd_pool;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    VkCommandBuffer cb = VK_NULL_HANDLE;
    check(vkAllocateCommandBuffers(device, &cai, &cb), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    check(vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
    // Earlier work on the queue (Spool's included) wrote this buffer.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                         0, nullptr, 0, nullptr);
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, s.pipeline);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, s.layout, 0, 1, &p.set, 0, nullptr);
    const struct { std::uint32_t n; float factor; } push{n, factor};
    vkCmdPushConstants(cb, s.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
    vkCmdDispatch(cb, (n + 63) / 64, 1, 1);
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0, nullptr,
                         0, nullptr);
    check(vkEndCommandBuffer(cb), "vkEndCommandBuffer");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(vkCreateFence(device, &fci, nullptr, &p.fence), "vkCreateFence");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    {
      std::lock_guard lk(*queue_mutex);
      check(vkQueueSubmit(queue, 1, &si, p.fence), "vkQueueSubmit");
    }
    pending_.push_back(p);
  }

  // Waits for all of the app's own submissions and frees their objects.
  void finish() {
    for (Pending& p : pending_) {
      check(vkWaitForFences(device, 1, &p.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
      vkDestroyFence(device, p.fence, nullptr);
      vkDestroyCommandPool(device, p.cmd_pool, nullptr);
      vkFreeDescriptorSets(device, p.pool, 1, &p.set);
    }
    pending_.clear();
  }

  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;         // shared by the app and Spool
  VkQueue second_queue = VK_NULL_HANDLE;  // for Spool alone, when the family has two
  std::uint32_t family = 0;
  std::uint32_t queue_count = 1;
  std::string name;
  std::shared_ptr<std::mutex> queue_mutex = std::make_shared<std::mutex>();

 private:
  std::uint32_t memory_type(std::uint32_t bits, VkMemoryPropertyFlags flags) const {
    for (std::uint32_t i = 0; i < mem_.memoryTypeCount; ++i) {
      if ((bits & (1u << i)) != 0 && (mem_.memoryTypes[i].propertyFlags & flags) == flags) return i;
    }
    throw std::runtime_error("no host-visible coherent memory type");
  }
  struct Pending {
    VkFence fence = VK_NULL_HANDLE;
    VkCommandPool cmd_pool = VK_NULL_HANDLE;
    VkDescriptorPool pool = VK_NULL_HANDLE;
    VkDescriptorSet set = VK_NULL_HANDLE;
  };
  std::vector<Pending> pending_;
  VkPhysicalDeviceMemoryProperties mem_{};
};

}  // namespace app
