// The raw-Vulkan baselines (see raw_vulkan.hpp). Plain Vulkan, no Spool code.
#include "raw_vulkan.hpp"

#include <sched.h>
#include <vulkan/vulkan.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench.hpp"

namespace bench {

namespace {

// The two shaders, compiled by glslc at build time (bench/dispatch/CMakeLists.txt).
const std::uint32_t kTallySpv[] =
#include "raw_tally.spv.inc"
    ;
const std::uint32_t kResidentSpv[] =
#include "raw_resident.spv.inc"
    ;

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    default: return "VkResult (unnamed)";
  }
}

[[noreturn]] void fail(VkResult r, const char* call, const char* file, int line) {
  throw Error(std::string("raw Vulkan baseline: ") + call + " failed: " + result_name(r) + " (" +
              std::to_string(static_cast<int>(r)) + ") at " + file + ":" + std::to_string(line));
}

#define RAW_VK(call)                                          \
  do {                                                        \
    const VkResult raw_vk_r_ = (call);                        \
    if (raw_vk_r_ != VK_SUCCESS) fail(raw_vk_r_, #call, __FILE__, __LINE__); \
  } while (0)

// Owns one device-level handle.
template <class H, void (*Destroy)(VkDevice, H, const VkAllocationCallbacks*)>
class Owned {
 public:
  Owned() = default;
  Owned(VkDevice d, H h) : d_(d), h_(h) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& o) noexcept : d_(o.d_), h_(std::exchange(o.h_, VK_NULL_HANDLE)) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      if (h_ != VK_NULL_HANDLE) Destroy(d_, h_, nullptr);
      d_ = o.d_;
      h_ = std::exchange(o.h_, VK_NULL_HANDLE);
    }
    return *this;
  }
  ~Owned() {
    if (h_ != VK_NULL_HANDLE) Destroy(d_, h_, nullptr);
  }
  H get() const noexcept { return h_; }

 private:
  VkDevice d_ = VK_NULL_HANDLE;
  H h_ = VK_NULL_HANDLE;
};

struct InstanceHandle {
  VkInstance h = VK_NULL_HANDLE;
  ~InstanceHandle() {
    if (h != VK_NULL_HANDLE) vkDestroyInstance(h, nullptr);
  }
};
struct DeviceHandle {
  VkDevice h = VK_NULL_HANDLE;
  ~DeviceHandle() {
    if (h != VK_NULL_HANDLE) vkDestroyDevice(h, nullptr);
  }
};

struct HostBuffer {
  Owned<VkBuffer, vkDestroyBuffer> buffer;
  Owned<VkDeviceMemory, vkFreeMemory> memory;
  std::uint32_t* words = nullptr;  // mapped, host-coherent
  VkDeviceAddress address = 0;
  VkDeviceSize size = 0;
};

std::string uuid_hex(const std::uint8_t* p) {
  std::string s;
  char b[3];
  for (std::uint32_t i = 0; i < VK_UUID_SIZE; ++i) {
    std::snprintf(b, sizeof b, "%02x", p[i]);
    s += b;
  }
  return s;
}

// Control words of the resident shader's ring, each on its own 128-byte line
// (shaders/raw_resident.comp).
constexpr std::uint32_t kTail = 0, kStop = 32, kDone = 64, kStarted = 96, kCtlWords = 128;
constexpr std::uint32_t kRingSlots = 1024;         // as Spool's default SPOOL_QUEUE_SLOTS
constexpr std::uint32_t kLlvmpipeLoopBudget = 65'535;
constexpr std::uint32_t kBudgetMargin = 535;       // passes kept back from the budget
constexpr std::uint64_t kFenceTimeoutNs = 60'000'000'000ull;
// The host's wait for the resident shader: polls right after progress (only
// when the process may use more than one CPU: on one, a spinning host only
// keeps the shader off it), then sleeps of this many microseconds (plus the
// kernel's timer slack).
constexpr std::uint32_t kSpinPolls = 1000;
constexpr int kSleepUs = 10;

std::uint32_t spin_polls() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1) return 0;
  return kSpinPolls;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct TallyPush {
  VkDeviceAddress counts;
  std::uint32_t item_id;
  std::uint32_t grid;
};
struct ResidentPush {
  VkDeviceAddress ctl, slots, counts;
  std::uint32_t mask;
  std::uint32_t budget;
};

std::atomic_ref<std::uint32_t> word(std::uint32_t* w, std::uint32_t i) { return std::atomic_ref<std::uint32_t>(w[i]); }

}  // namespace

struct RawVulkan::Impl {
  InstanceHandle instance;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  std::string name;
  bool loop_budget = false;
  std::uint32_t budget = 0xffffffffu;  // passes of the resident loop per launch
  std::uint32_t capacity = 0;
  DeviceHandle device;
  VkQueue queue = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties mem{};
  HostBuffer counts, ctl, slots;
  Owned<VkPipelineLayout, vkDestroyPipelineLayout> tally_layout, resident_layout;
  Owned<VkPipeline, vkDestroyPipeline> tally_pipeline, resident_pipeline;
  Owned<VkCommandPool, vkDestroyCommandPool> pool;
  VkCommandBuffer cb = VK_NULL_HANDLE, resident_cb = VK_NULL_HANDLE;  // freed with the pool
  Owned<VkFence, vkDestroyFence> fence, resident_fence;
  bool resident_running = false;
  std::uint32_t tail = 0;  // host's copy of TAIL

  ~Impl() {
    if (device.h != VK_NULL_HANDLE) {
      if (resident_running) {
        word(ctl.words, kStop).store(1, std::memory_order_release);
        VkFence f = resident_fence.get();
        vkWaitForFences(device.h, 1, &f, VK_TRUE, kFenceTimeoutNs);
      }
      vkDeviceWaitIdle(device.h);
    }
  }

  void open(const std::string& uuid) {
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "bench_dispatch raw baseline";
    app.apiVersion = VK_API_VERSION_1_2;
    VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ici.pApplicationInfo = &app;
    RAW_VK(vkCreateInstance(&ici, nullptr, &instance.h));
    std::uint32_t n = 0;
    RAW_VK(vkEnumeratePhysicalDevices(instance.h, &n, nullptr));
    std::vector<VkPhysicalDevice> pds(n);
    RAW_VK(vkEnumeratePhysicalDevices(instance.h, &n, pds.data()));
    std::string seen;
    for (VkPhysicalDevice pd : pds) {
      VkPhysicalDeviceIDProperties idp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
      VkPhysicalDeviceDriverProperties drv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
      idp.pNext = &drv;
      VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
      p2.pNext = &idp;
      vkGetPhysicalDeviceProperties2(pd, &p2);
      const std::string u = uuid_hex(idp.deviceUUID);
      seen += std::string(seen.empty() ? "" : ", ") + p2.properties.deviceName + " (" + u + ")";
      if (u != uuid) continue;
      physical = pd;
      name = p2.properties.deviceName;
      loop_budget = drv.driverID == VK_DRIVER_ID_MESA_LLVMPIPE;
      break;
    }
    if (physical == VK_NULL_HANDLE) {
      throw Error("raw Vulkan baseline: no physical device has Spool's device UUID " + uuid + " (seen: " + seen + ")");
    }
    if (loop_budget) budget = kLlvmpipeLoopBudget - kBudgetMargin;

    std::uint32_t qn = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &qn, nullptr);
    std::vector<VkQueueFamilyProperties> qf(qn);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &qn, qf.data());
    std::uint32_t family = qn;
    for (std::uint32_t i = 0; i < qn; ++i) {
      if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0) {
        family = i;
        break;
      }
    }
    if (family == qn) throw Error("raw Vulkan baseline: " + name + " has no compute queue");
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    f12.bufferDeviceAddress = VK_TRUE;
    const float prio = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = family;
    qci.queueCount = 1;
    qci.pQueuePriorities = &prio;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.pNext = &f12;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    RAW_VK(vkCreateDevice(physical, &dci, nullptr, &device.h));
    vkGetDeviceQueue(device.h, family, 0, &queue);
    vkGetPhysicalDeviceMemoryProperties(physical, &mem);

    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = family;
    VkCommandPool p = VK_NULL_HANDLE;
    RAW_VK(vkCreateCommandPool(device.h, &pci, nullptr, &p));
    pool = {device.h, p};
    VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    cai.commandPool = pool.get();
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    RAW_VK(vkAllocateCommandBuffers(device.h, &cai, &cb));
    RAW_VK(vkAllocateCommandBuffers(device.h, &cai, &resident_cb));
    fence = make_fence();
    resident_fence = make_fence();
  }

  Owned<VkFence, vkDestroyFence> make_fence() {
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence f = VK_NULL_HANDLE;
    RAW_VK(vkCreateFence(device.h, &fci, nullptr, &f));
    return {device.h, f};
  }

  HostBuffer make_buffer(VkDeviceSize bytes) {
    HostBuffer b;
    b.size = bytes;
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = bytes;
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    VkBuffer h = VK_NULL_HANDLE;
    RAW_VK(vkCreateBuffer(device.h, &bci, nullptr, &h));
    b.buffer = {device.h, h};
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device.h, h, &req);
    const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    std::uint32_t type = mem.memoryTypeCount;
    for (std::uint32_t i = 0; i < mem.memoryTypeCount; ++i) {
      if ((req.memoryTypeBits & (1u << i)) != 0 && (mem.memoryTypes[i].propertyFlags & want) == want) {
        type = i;
        break;
      }
    }
    if (type == mem.memoryTypeCount) throw Error("raw Vulkan baseline: " + name + " has no host-coherent memory");
    VkMemoryAllocateFlagsInfo flags{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
    flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.pNext = &flags;
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    VkDeviceMemory m = VK_NULL_HANDLE;
    RAW_VK(vkAllocateMemory(device.h, &mai, nullptr, &m));
    b.memory = {device.h, m};
    RAW_VK(vkBindBufferMemory(device.h, h, m, 0));
    void* p = nullptr;
    RAW_VK(vkMapMemory(device.h, m, 0, VK_WHOLE_SIZE, 0, &p));
    b.words = static_cast<std::uint32_t*>(p);
    std::memset(p, 0, bytes);
    VkBufferDeviceAddressInfo ai{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
    ai.buffer = h;
    b.address = vkGetBufferDeviceAddress(device.h, &ai);
    return b;
  }

  void make_pipeline(const std::uint32_t* spv, std::size_t bytes, std::uint32_t push_bytes, std::uint32_t wg,
                     Owned<VkPipelineLayout, vkDestroyPipelineLayout>& layout,
                     Owned<VkPipeline, vkDestroyPipeline>& pipeline) {
    VkPushConstantRange pr{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
    VkPipelineLayoutCreateInfo lci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    lci.pushConstantRangeCount = 1;
    lci.pPushConstantRanges = &pr;
    VkPipelineLayout l = VK_NULL_HANDLE;
    RAW_VK(vkCreatePipelineLayout(device.h, &lci, nullptr, &l));
    layout = {device.h, l};
    VkShaderModuleCreateInfo mci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    mci.codeSize = bytes;
    mci.pCode = spv;
    VkShaderModule m = VK_NULL_HANDLE;
    RAW_VK(vkCreateShaderModule(device.h, &mci, nullptr, &m));
    Owned<VkShaderModule, vkDestroyShaderModule> module(device.h, m);
    VkSpecializationMapEntry entry{0, 0, sizeof(std::uint32_t)};
    VkSpecializationInfo spec{1, &entry, sizeof wg, &wg};
    VkComputePipelineCreateInfo cci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    cci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cci.stage.module = m;
    cci.stage.pName = "main";
    cci.stage.pSpecializationInfo = wg != 0 ? &spec : nullptr;
    cci.layout = l;
    VkPipeline pl = VK_NULL_HANDLE;
    RAW_VK(vkCreateComputePipelines(device.h, VK_NULL_HANDLE, 1, &cci, nullptr, &pl));
    pipeline = {device.h, pl};
  }

  void begin(VkCommandBuffer c, VkCommandBufferUsageFlags usage) {
    RAW_VK(vkResetCommandBuffer(c, 0));
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = usage;
    RAW_VK(vkBeginCommandBuffer(c, &bi));
  }

  // Shader writes visible to the host after the fence.
  void host_barrier(VkCommandBuffer c) {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
  }

  void submit(VkCommandBuffer c, VkFence f) {
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &c;
    RAW_VK(vkQueueSubmit(queue, 1, &si, f));
  }

  void wait(VkFence f) {
    RAW_VK(vkWaitForFences(device.h, 1, &f, VK_TRUE, kFenceTimeoutNs));
    RAW_VK(vkResetFences(device.h, 1, &f));
  }

  void dispatch_one(VkCommandBuffer c, std::uint32_t item) {
    const TallyPush push{counts.address, item, 1};
    vkCmdPushConstants(c, tally_layout.get(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
    vkCmdDispatch(c, 1, 1, 1);
  }

  void check_counts(std::uint32_t n, const char* what) const {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (counts.words[i] != 1) {
        throw Error(std::string("raw Vulkan baseline ") + what + ": counter " + std::to_string(i) + " is " +
                    std::to_string(counts.words[i]) + " after one run, expected 1");
      }
    }
  }

  void launch_resident() {
    word(ctl.words, kStop).store(0, std::memory_order_release);
    submit(resident_cb, resident_fence.get());
    resident_running = true;
  }
};

RawVulkan::RawVulkan(const std::string& uuid_hex, std::uint32_t launch_workgroup, std::uint32_t capacity)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.capacity = std::max<std::uint32_t>(capacity, 1);
  m.open(uuid_hex);
  m.counts = m.make_buffer(std::uint64_t{m.capacity} * 4);
  m.ctl = m.make_buffer(kCtlWords * 4);
  m.slots = m.make_buffer(kRingSlots * 4);
  m.make_pipeline(kTallySpv, sizeof kTallySpv, sizeof(TallyPush), std::max<std::uint32_t>(launch_workgroup, 1),
                  m.tally_layout, m.tally_pipeline);
  m.make_pipeline(kResidentSpv, sizeof kResidentSpv, sizeof(ResidentPush), 0, m.resident_layout,
                  m.resident_pipeline);
  // The resident shader's command buffer never changes: record it once.
  m.begin(m.resident_cb, 0);
  vkCmdBindPipeline(m.resident_cb, VK_PIPELINE_BIND_POINT_COMPUTE, m.resident_pipeline.get());
  const ResidentPush push{m.ctl.address, m.slots.address, m.counts.address, kRingSlots - 1, m.budget};
  vkCmdPushConstants(m.resident_cb, m.resident_layout.get(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
  vkCmdDispatch(m.resident_cb, 1, 1, 1);
  m.host_barrier(m.resident_cb);
  RAW_VK(vkEndCommandBuffer(m.resident_cb));
}

RawVulkan::~RawVulkan() = default;

const std::string& RawVulkan::device_name() const noexcept { return impl_->name; }
bool RawVulkan::has_loop_budget() const noexcept { return impl_->loop_budget; }
std::uint32_t RawVulkan::resident_budget() const noexcept { return impl_->budget; }

RawTiming RawVulkan::submit_per_dispatch(std::uint32_t n, std::uint32_t cap) {
  Impl& m = *impl_;
  const std::uint32_t k = std::min({n, std::max<std::uint32_t>(cap, 1), m.capacity});
  std::memset(m.counts.words, 0, std::size_t{k} * 4);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint32_t i = 0; i < k; ++i) {
    m.begin(m.cb, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT);
    vkCmdBindPipeline(m.cb, VK_PIPELINE_BIND_POINT_COMPUTE, m.tally_pipeline.get());
    m.dispatch_one(m.cb, i);
    m.host_barrier(m.cb);
    RAW_VK(vkEndCommandBuffer(m.cb));
    m.submit(m.cb, m.fence.get());
    m.wait(m.fence.get());
  }
  const auto t1 = std::chrono::steady_clock::now();
  m.check_counts(k, "(a) submit per dispatch");
  return {std::chrono::duration<double, std::nano>(t1 - t0).count(), k, 0};
}

RawTiming RawVulkan::one_command_buffer(std::uint32_t n, std::uint32_t cap) {
  Impl& m = *impl_;
  const std::uint32_t k = std::min({n, std::max<std::uint32_t>(cap, 1), m.capacity});
  std::memset(m.counts.words, 0, std::size_t{k} * 4);
  const auto t0 = std::chrono::steady_clock::now();
  m.begin(m.cb, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT);
  vkCmdBindPipeline(m.cb, VK_PIPELINE_BIND_POINT_COMPUTE, m.tally_pipeline.get());
  for (std::uint32_t i = 0; i < k; ++i) m.dispatch_one(m.cb, i);
  m.host_barrier(m.cb);
  RAW_VK(vkEndCommandBuffer(m.cb));
  m.submit(m.cb, m.fence.get());
  m.wait(m.fence.get());
  const auto t1 = std::chrono::steady_clock::now();
  m.check_counts(k, "(b) one command buffer");
  return {std::chrono::duration<double, std::nano>(t1 - t0).count(), k, 0};
}

RawTiming RawVulkan::resident(std::uint32_t n) {
  Impl& m = *impl_;
  if (n > m.capacity) throw Error("raw Vulkan baseline (c): " + std::to_string(n) + " items exceed its capacity");
  std::memset(m.counts.words, 0, std::size_t{n} * 4);
  auto tail = word(m.ctl.words, kTail);
  auto done = word(m.ctl.words, kDone);
  auto started = word(m.ctl.words, kStarted);
  VkFence f = m.resident_fence.get();

  // Launch and wait until the shader runs (pipeline compilation and start-up
  // stay outside the timed part).
  const std::uint32_t starts = started.load(std::memory_order_acquire);
  m.launch_resident();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (started.load(std::memory_order_acquire) == starts) {
    if (std::chrono::steady_clock::now() > deadline) throw Error("raw Vulkan baseline (c): the shader did not start in 60 s");
    std::this_thread::sleep_for(std::chrono::microseconds(kSleepUs));
  }

  RawTiming r;
  const std::uint32_t base = m.tail;
  std::uint32_t published = 0;
  std::uint32_t last_done = done.load(std::memory_order_acquire);
  std::uint32_t idle = 0;
  const std::uint32_t spin = spin_polls();
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    const std::uint32_t d = done.load(std::memory_order_acquire);
    if (d - base == n) break;
    const std::uint32_t in_flight = m.tail - d;
    if (published < n && in_flight < kRingSlots) {
      const std::uint32_t k = std::min(kRingSlots - in_flight, n - published);
      for (std::uint32_t j = 0; j < k; ++j) m.slots.words[(m.tail + j) & (kRingSlots - 1)] = published + j;
      m.tail += k;
      published += k;
      tail.store(m.tail, std::memory_order_release);
      continue;
    }
    if (d != last_done) {
      last_done = d;
      idle = 0;
      continue;
    }
    // Waiting: spin a little after the last progress, then sleep in short
    // steps (a yield or a longer spin would keep the shader off a shared core).
    if (++idle < spin) {
      cpu_relax();
      continue;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(kSleepUs));
    if (vkGetFenceStatus(m.device.h, f) == VK_SUCCESS) {
      // The shader returned: it spent its loop budget. Go on where it stopped.
      RAW_VK(vkResetFences(m.device.h, 1, &f));
      m.submit(m.resident_cb, f);
      ++r.relaunches;
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  r.ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
  r.items_run = n;

  word(m.ctl.words, kStop).store(1, std::memory_order_release);
  m.wait(f);
  m.resident_running = false;
  m.check_counts(n, "(c) resident shader");
  return r;
}

}  // namespace bench
