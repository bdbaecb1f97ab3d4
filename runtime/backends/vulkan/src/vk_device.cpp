#include "vk_device.hpp"

#include <algorithm>
#include <string>

#include "spool/backend/source_hash.hpp"
#include "spool/kernels/builtin_glsl.hpp"
#include "spool/options.hpp"
#include "spool/vulkan/backend.hpp"
#include "vk_check.hpp"

namespace spool::vulkan {

namespace {

constexpr std::uint32_t kLaunchChunk = 128;
constexpr std::uint32_t kRecordedCacheEntries = 8;
constexpr std::uint32_t kDefaultWorkgroup = 64;

OwnedCommandPool make_pool(VkDevice d, std::uint32_t family, VkCommandPoolCreateFlags flags) {
  VkCommandPoolCreateInfo ci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  ci.flags = flags;
  ci.queueFamilyIndex = family;
  VkCommandPool p = VK_NULL_HANDLE;
  SPOOL_VK(vkCreateCommandPool(d, &ci, nullptr, &p));
  return OwnedCommandPool(d, p);
}

OwnedFence make_fence(VkDevice d, bool signaled) {
  VkFenceCreateInfo ci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  ci.flags = signaled ? VK_FENCE_CREATE_SIGNALED_BIT : 0;
  VkFence f = VK_NULL_HANDLE;
  SPOOL_VK(vkCreateFence(d, &ci, nullptr, &f));
  return OwnedFence(d, f);
}

std::vector<VkCommandBuffer> allocate(VkDevice d, VkCommandPool p, std::uint32_t n) {
  std::vector<VkCommandBuffer> cbs(n);
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = p;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = n;
  SPOOL_VK(vkAllocateCommandBuffers(d, &ai, cbs.data()));
  return cbs;
}

}  // namespace

VkDeviceImpl::VkDeviceImpl(std::shared_ptr<Instance> inst, const PhysicalDevice& pd,
                           PersistentOptions po)
    : ctx_(std::make_shared<Context>(std::move(inst), pd)), popts_(po) {
  init();
}

VkDeviceImpl::VkDeviceImpl(std::shared_ptr<Context> ctx, PersistentOptions po, VkPipelineCache app_cache)
    : ctx_(std::move(ctx)), popts_(po), app_cache_(app_cache) {
  init();
}

void VkDeviceImpl::init() {
  const PhysicalDevice& pd = ctx_->physical();
  VkDevice d = ctx_->device();
  const std::uint32_t fam = ctx_->queue_family();
  for (int s = 0; s < 2; ++s) {
    launch_pools_[s] = make_pool(d, fam, VK_COMMAND_POOL_CREATE_TRANSIENT_BIT);
    launch_cbs_[s] = allocate(d, launch_pools_[s].get(), kLaunchChunk);
    launch_fences_[s] = make_fence(d, false);
  }
  record_pool_ = make_pool(d, fam, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT);
  record_fence_ = make_fence(d, false);
  if (pd.timestamps) {
    VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = 2 * (kRecordedCacheEntries + 1);
    VkQueryPool q = VK_NULL_HANDLE;
    SPOOL_VK(vkCreateQueryPool(d, &qi, nullptr, &q));
    queries_ = OwnedQueryPool(d, q);
  }

  // Persistent queue: the core's engine over a ring in host-coherent memory.
  backend::QueueOptions qo = popts_.queue;
  qo.loop_budget = pd.loop_budget;
  backend::PersistentQueue::check(qo);
  ring_ = std::make_shared<VkBufferImpl>(ctx_, backend::PersistentQueue::ring_bytes(qo.capacity), true);
  persistent_pool_ = make_pool(d, fam, VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT);
  persistent_cb_ = allocate(d, persistent_pool_.get(), 1)[0];
  persistent_fence_ = make_fence(d, true);
  groups_ = popts_.groups != 0 ? popts_.groups : (info().type == DeviceType::cpu ? 1u : 64u);
  queue_ = std::make_unique<backend::PersistentQueue>(static_cast<std::uint32_t*>(ring_->host_ptr()), qo,
                                                      static_cast<backend::PersistentDriver&>(*this));
}

VkDeviceImpl::~VkDeviceImpl() {
  // Runs (or reports failed) every accepted persistent item and parks.
  queue_.reset();
  // A borrowed device may be in use by the application's other queues:
  // only this queue is drained (vkDeviceWaitIdle would race the application).
  if (ctx_->borrowed()) {
    try {
      ctx_->wait_queue_idle();
    } catch (...) {
    }
  } else {
    vkDeviceWaitIdle(ctx_->device());
  }
  save_pipeline_cache();
  recorded_cache_.clear();
}

std::string VkDeviceImpl::identity() const {
  const auto& i = info();
  return "vulkan|" + i.uuid + "|" + i.name + "|" + i.driver_version + "|" + i.api_version;
}

std::shared_ptr<backend::BufferImpl> VkDeviceImpl::create_buffer(std::uint64_t bytes,
                                                                 bool host_visible) {
  return std::make_shared<VkBufferImpl>(ctx_, bytes, host_visible, validate_);
}

std::vector<std::string> VkDeviceImpl::builtin_kernels() const {
  std::vector<std::string> out;
  for (const auto& k : kernels::builtin_glsl()) out.emplace_back(k.name);
  return out;
}

std::shared_ptr<backend::KernelImpl> VkDeviceImpl::load_builtin(std::string_view name,
                                                                const backend::KernelVariant& v) {
  const std::uint32_t wg = v.workgroup_size != 0 ? v.workgroup_size : kDefaultWorkgroup;
  const std::string key = std::string(name) + "/" + (v.workgroup_size == 0 ? std::string("default") : std::to_string(wg));
  std::lock_guard lk(cache_mu_);
  if (auto it = builtin_cache_.find(key); it != builtin_cache_.end()) return it->second;
  for (const auto& k : kernels::builtin_glsl()) {
    if (k.name == name) {
      auto impl = std::make_shared<VkKernelImpl>(ctx_, std::string(k.name), std::string(k.source_hash),
                                                 k.launch_spirv, k.persistent_spirv, wg, v.workgroup_size,
                                                 persistent_wg(), pipeline_cache(), ctx_->physical().loop_budget);
      impl->set_tunable(v.workgroup_size == 0);
      builtin_cache_[key] = impl;
      return impl;
    }
  }
  std::string known;
  for (const auto& k : kernels::builtin_glsl()) known += (known.empty() ? "" : ", ") + std::string(k.name);
  throw Error(Errc::invalid_argument, "unknown kernel '" + std::string(name) + "' (built-in: " + known + ")",
              "load_builtin", {}, __FILE__, __LINE__);
}

std::shared_ptr<backend::KernelImpl> VkDeviceImpl::load_spirv(std::string name,
                                                              std::span<const std::uint32_t> launch,
                                                              std::span<const std::uint32_t> persistent,
                                                              const backend::KernelVariant& v) {
  backend::SpirvModule m;
  m.name = std::move(name);
  m.launch = launch;
  m.persistent = persistent;
  return load_module(m, v);
}

std::shared_ptr<backend::KernelImpl> VkDeviceImpl::load_module(const backend::SpirvModule& m,
                                                               const backend::KernelVariant& v) {
  const std::uint32_t wg = v.workgroup_size != 0 ? v.workgroup_size : kDefaultWorkgroup;
  // Without a hash from the build (spool_add_kernels), the module's own bytes.
  std::string hash = m.source_hash.empty() ? backend::spirv_source_hash(m.launch, m.persistent) : m.source_hash;
  auto impl = std::make_shared<VkKernelImpl>(ctx_, m.name, hash, m.launch, m.persistent, wg, v.workgroup_size,
                                             persistent_wg(), pipeline_cache(), ctx_->physical().loop_budget);
  // Declared sizes race when the kernel runs at its default size and takes
  // the size from specialization constant 0 (the Spool ABI does).
  if (!m.race_workgroups.empty() && v.workgroup_size == 0 && impl->reflection().local_size_spec) {
    auto src = std::make_shared<ModuleSource>();
    src->name = m.name;
    src->source_hash = std::move(hash);
    src->launch.assign(m.launch.begin(), m.launch.end());
    src->persistent.assign(m.persistent.begin(), m.persistent.end());
    src->race_workgroups = m.race_workgroups;
    impl->set_module(std::move(src));
  }
  return impl;
}

std::shared_ptr<backend::KernelImpl> VkDeviceImpl::load_variant(const backend::KernelImpl& k,
                                                                const backend::KernelVariant& v) {
  const auto* vk = dynamic_cast<const VkKernelImpl*>(&k);
  if (vk == nullptr || vk->module() == nullptr) return load_builtin(k.desc().name, v);
  const ModuleSource& m = *vk->module();
  const std::uint32_t wg = v.workgroup_size != 0 ? v.workgroup_size : kDefaultWorkgroup;
  return std::make_shared<VkKernelImpl>(ctx_, m.name, m.source_hash, m.launch, m.persistent, wg,
                                        v.workgroup_size, persistent_wg(), pipeline_cache(),
                                        ctx_->physical().loop_budget);
}

// On CPU devices (lavapipe) a persistent workgroup is one SIMD row: barriers
// across more invocations cost coroutine switches on every poll.
std::uint32_t VkDeviceImpl::persistent_wg() const noexcept {
  return popts_.workgroup != 0 ? popts_.workgroup : (info().type == DeviceType::cpu ? 8u : 0u);
}

bool VkDeviceImpl::supports(LaunchMode m) const noexcept {
  return m != LaunchMode::persistent || !ctx_->shared_queue();
}

std::string VkDeviceImpl::unsupported_reason(LaunchMode m) const {
  if (m == LaunchMode::persistent && ctx_->shared_queue()) {
    return "the queue is shared with the application, and a persistent kernel would hold it until it "
           "parks; hand Spool a queue of its own (spool::vulkan::QueueUse::dedicated) to enable it";
  }
  return backend::DeviceImpl::unsupported_reason(m);
}

bool VkDeviceImpl::persistent_resident(const backend::KernelImpl& k) const noexcept {
  return queue_->resident(k);
}

void VkDeviceImpl::park_persistent() { queue_->park(); }

void VkDeviceImpl::execute(LaunchMode mode, const backend::ExecRequest& req, backend::Completion done) {
  const auto* k = dynamic_cast<const VkKernelImpl*>(req.kernel);
  if (k == nullptr || k->context() != ctx_.get()) {
    throw Error(Errc::invalid_argument, "kernel was not loaded on this device (" + info().name + ")",
                "execute", {}, __FILE__, __LINE__);
  }
  check_items(*k, req.items);
  if (mode == LaunchMode::persistent) {
    if (!k->desc().has_persistent) {
      throw Error(Errc::not_supported,
                  "kernel '" + k->desc().name + "' has no persistent variant: " +
                      k->desc().persistent_unavailable_reason,
                  "execute", {}, __FILE__, __LINE__);
    }
    if (!supports(LaunchMode::persistent)) {
      throw Error(Errc::not_supported, "persistent mode: " + unsupported_reason(LaunchMode::persistent), "execute",
                  {}, __FILE__, __LINE__);
    }
    queue_->submit(*k, req.items, req.sequential, std::move(done));
    return;
  }
  done(queue_->run_exclusive(req.items.size(), [&] {
    return mode == LaunchMode::launches ? run_launches(*k, req.items, req.sequential)
                                        : run_recorded(*k, req.items, req.sequential, true);
  }));
}

// ---- backend ----

namespace {

class VkBackend final : public backend::Backend {
 public:
  BackendKind kind() const noexcept override { return BackendKind::vulkan; }

  std::vector<DeviceInfo> enumerate(std::string* why_none) override {
    std::vector<DeviceInfo> out;
    usable_.clear();
    try {
      if (!inst_) inst_ = std::make_shared<Instance>();
      std::string skipped;
      for (auto& pd : enumerate_physical(inst_->get())) {
        if (pd.usable) {
          out.push_back(pd.info);
          usable_.push_back(pd);
        } else {
          skipped += (skipped.empty() ? "" : "; ") + pd.info.name + ": " + pd.why_unusable;
        }
      }
      if (out.empty() && why_none != nullptr) {
        *why_none = skipped.empty() ? "no Vulkan physical devices" : "no usable device (" + skipped + ")";
      }
    } catch (const Error& e) {
      if (why_none != nullptr) *why_none = std::string("Vulkan unavailable: ") + e.what();
    }
    return out;
  }

  std::unique_ptr<backend::DeviceImpl> open(std::size_t index) override {
    if (index >= usable_.size()) {
      throw Error(Errc::invalid_argument, "Vulkan device index out of range", "open", {}, __FILE__, __LINE__);
    }
    return std::make_unique<VkDeviceImpl>(inst_, usable_[index], read_persistent_options());
  }

 private:
  std::shared_ptr<Instance> inst_;
  std::vector<PhysicalDevice> usable_;
};

}  // namespace

PersistentOptions read_persistent_options() {
  const options::Settings s = options::from_environment();  // range-checked
  PersistentOptions o;
  o.queue = backend::PersistentQueue::options_from(s);
  o.groups = s.persistent_groups;
  o.workgroup = s.persistent_wg;
  return o;
}

std::unique_ptr<backend::Backend> make_backend() { return std::make_unique<VkBackend>(); }

}  // namespace spool::vulkan
