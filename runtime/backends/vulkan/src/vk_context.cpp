#include "vk_context.hpp"

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "vk_check.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <link.h>
#endif

namespace spool::vulkan {

namespace {

std::string version_string(std::uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) +
         "." + std::to_string(VK_API_VERSION_PATCH(v));
}

std::string hex(const std::uint8_t* p, std::size_t n) {
  std::string s;
  char buf[3];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    s += buf;
  }
  return s;
}

DeviceType map_type(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::discrete_gpu;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::integrated_gpu;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return DeviceType::virtual_gpu;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return DeviceType::cpu;
    default: return DeviceType::other;
  }
}

#if defined(__SANITIZE_ADDRESS__)
// ASan builds only (elsewhere keep_drivers_loaded() does nothing). vkDestroyInstance unloads the driver (and LLVM with
// lavapipe); LeakSanitizer then finds the driver's global allocations
// unreachable and cannot even name the module they came from. Marking every
// library loaded so far RTLD_NODELETE keeps them mapped, so what the driver
// still points at stays reachable and real leaks stay attributable.
void pin_loaded_libraries() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void*) -> int {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] == '/') {
          dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        }
        return 0;
      },
      nullptr);
}
#endif

}  // namespace

void keep_drivers_loaded() noexcept {
#if defined(__SANITIZE_ADDRESS__)
  pin_loaded_libraries();
#endif
}

Instance::Instance() {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "spool";
  app.pEngineName = "spool";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  SPOOL_VK(vkCreateInstance(&ci, nullptr, &h_));
  keep_drivers_loaded();
}

Instance::~Instance() {
  if (h_ != VK_NULL_HANDLE && owned_) vkDestroyInstance(h_, nullptr);
}

PhysicalDevice describe_physical(VkPhysicalDevice h, std::optional<std::uint32_t> family) {
  PhysicalDevice pd;
  pd.handle = h;
  VkPhysicalDeviceIDProperties idp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceDriverProperties drv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  idp.pNext = &drv;
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props.pNext = &idp;
  vkGetPhysicalDeviceProperties2(h, &props);
  const auto& p = props.properties;
  pd.info.name = p.deviceName;
  pd.info.backend = BackendKind::vulkan;
  pd.info.type = map_type(p.deviceType);
  pd.info.uuid = hex(idp.deviceUUID, VK_UUID_SIZE);
  pd.info.driver_version = std::string(drv.driverInfo[0] ? drv.driverInfo : drv.driverName) +
                           " (" + std::to_string(p.driverVersion) + ")";
  pd.info.api_version = version_string(p.apiVersion);
  pd.info.limits.max_workgroup_size = p.limits.maxComputeWorkGroupSize[0];
  pd.info.limits.max_push_constant_bytes = p.limits.maxPushConstantsSize;
  pd.timestamp_period_ns = p.limits.timestampPeriod;
  // llvmpipe (lavapipe) ends every loop of an invocation once 65535
  // iterations were spent in total (LP_MAX_TGSI_LOOP_ITERATIONS).
  if (drv.driverID == VK_DRIVER_ID_MESA_LLVMPIPE) pd.loop_budget = 65535;

  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  f.pNext = &f12;
  vkGetPhysicalDeviceFeatures2(h, &f);

  std::uint32_t qn = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(h, &qn, nullptr);
  std::vector<VkQueueFamilyProperties> qf(qn);
  vkGetPhysicalDeviceQueueFamilyProperties(h, &qn, qf.data());
  bool have_queue = false;
  for (std::uint32_t i = 0; i < qn; ++i) {
    if (family && *family != i) continue;
    if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0) {
      pd.queue_family = i;
      pd.queue_count = qf[i].queueCount;
      pd.timestamp_valid_bits = qf[i].timestampValidBits;
      have_queue = true;
      break;
    }
  }
  pd.timestamps = p.limits.timestampComputeAndGraphics == VK_TRUE && pd.timestamp_valid_bits > 0;

  if (p.apiVersion < VK_API_VERSION_1_2) {
    pd.why_unusable = "Vulkan " + pd.info.api_version + " < 1.2";
  } else if (!have_queue) {
    pd.why_unusable = family ? "queue family " + std::to_string(*family) +
                                   (*family < qn ? " has no compute capability" : " does not exist")
                             : std::string("no compute queue");
  } else if (f12.bufferDeviceAddress != VK_TRUE) {
    pd.why_unusable = "no bufferDeviceAddress";
  } else if (f.features.shaderInt64 != VK_TRUE) {
    pd.why_unusable = "no shaderInt64";
  } else {
    pd.usable = true;
  }
  return pd;
}

std::vector<PhysicalDevice> enumerate_physical(VkInstance inst) {
  std::uint32_t n = 0;
  SPOOL_VK(vkEnumeratePhysicalDevices(inst, &n, nullptr));
  std::vector<VkPhysicalDevice> handles(n);
  SPOOL_VK(vkEnumeratePhysicalDevices(inst, &n, handles.data()));
  std::vector<PhysicalDevice> out;
  for (VkPhysicalDevice h : handles) out.push_back(describe_physical(h, std::nullopt));
  return out;
}

Context::Context(std::shared_ptr<Instance> inst, const PhysicalDevice& pd)
    : inst_(std::move(inst)), pd_(pd), queue_mu_(std::make_shared<std::mutex>()) {
  const float prio = 1.0f;
  VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  q.queueFamilyIndex = pd.queue_family;
  q.queueCount = 1;
  q.pQueuePriorities = &prio;

  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  f12.bufferDeviceAddress = VK_TRUE;
  VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  f.pNext = &f12;
  f.features.shaderInt64 = VK_TRUE;

  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  ci.pNext = &f;
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &q;
  SPOOL_VK(vkCreateDevice(pd.handle, &ci, nullptr, &dev_));
  vkGetDeviceQueue(dev_, pd.queue_family, 0, &queue_);
  vkGetPhysicalDeviceMemoryProperties(pd.handle, &mem_);
}

Context::Context(std::shared_ptr<Instance> inst, const PhysicalDevice& pd, const Borrowed& b)
    : inst_(std::move(inst)),
      pd_(pd),
      dev_(b.device),
      queue_(b.queue),
      queue_mu_(b.queue_mutex ? b.queue_mutex : std::make_shared<std::mutex>()),
      borrowed_(true),
      shared_queue_(b.shared_queue),
      on_release_(b.on_release) {
  vkGetPhysicalDeviceMemoryProperties(pd.handle, &mem_);
}

Context::~Context() {
  if (borrowed_) {
    // Nothing here was created by Spool; its own objects are already gone
    // (they hold this context). Tell the application it may destroy its device.
    if (on_release_) {
      try {
        on_release_();
      } catch (...) {
      }
    }
    return;
  }
  if (dev_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(dev_);
    vkDestroyDevice(dev_, nullptr);
  }
}

std::uint32_t Context::memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags flags) const {
  for (std::uint32_t i = 0; i < mem_.memoryTypeCount; ++i) {
    if ((type_bits & (1u << i)) != 0 && (mem_.memoryTypes[i].propertyFlags & flags) == flags) return i;
  }
  throw Error(Errc::not_supported, "no Vulkan memory type with the required properties",
              "vkGetPhysicalDeviceMemoryProperties", {}, __FILE__, __LINE__);
}

void Context::submit(const VkSubmitInfo& info, VkFence fence) {
  std::lock_guard lk(*queue_mu_);
  SPOOL_VK(vkQueueSubmit(queue_, 1, &info, fence));
}

void Context::wait_queue_idle() {
  std::lock_guard lk(*queue_mu_);
  SPOOL_VK(vkQueueWaitIdle(queue_));
}

}  // namespace spool::vulkan
