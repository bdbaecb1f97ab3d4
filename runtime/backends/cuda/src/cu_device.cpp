#include "cu_device.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cu_check.hpp"
#include "spool/cuda/backend.hpp"
#include "spool/cuda/ring_leader.hpp"
#include "spool/error.hpp"
#include "spool/options.hpp"

namespace spool::cuda {

namespace {

// A device buffer (cudaMalloc) or a mapped pinned host buffer (host visible).
// Guarded (validation mode): one allocation [front guard][payload][back
// guard]; pointers and size are the payload's (spool/backend/guards.hpp).
// Its memory is released through the device's DeferredFrees:
// cudaFree/cudaFreeHost wait for a resident persistent kernel.
class CuBufferImpl final : public backend::BufferImpl {
 public:
  CuBufferImpl(int device, std::uint64_t bytes, bool host_visible, bool guarded,
               std::shared_ptr<DeferredFrees> frees)
      : device_(device), size_(bytes), guarded_(guarded), frees_(std::move(frees)) {
    DeviceScope scope(device);
    if (guarded_) guards_ = backend::guard_layout(bytes);
    const std::size_t n = guards_.front + std::max<std::uint64_t>(bytes, 4) + guards_.back;
    if (host_visible) {
      SPOOL_CUDA(cudaHostAlloc(&base_host_, n, cudaHostAllocMapped | cudaHostAllocPortable));
      void* d = nullptr;
      const cudaError_t e = cudaHostGetDevicePointer(&d, base_host_, 0);
      if (e != cudaSuccess) {
        cudaFreeHost(base_host_);
        throw_cuda(e, "cudaHostGetDevicePointer(&d, host_, 0)", __FILE__, __LINE__);
      }
      base_dev_ = d;
      if (guarded_) {
        backend::fill_guard(base_host_, guards_.front);
        backend::fill_guard(static_cast<std::byte*>(base_host_) + guards_.front + bytes, guards_.back);
      }
    } else {
      SPOOL_CUDA(cudaMalloc(&base_dev_, n));
      if (guarded_) {
        SPOOL_CUDA(cudaMemset(base_dev_, backend::kGuardByte, guards_.front));
        SPOOL_CUDA(cudaMemset(static_cast<std::byte*>(base_dev_) + guards_.front + bytes, backend::kGuardByte,
                              guards_.back));
      }
    }
  }
  ~CuBufferImpl() override {
    // Unchecked on purpose: destructors must not throw, and a sticky error
    // is reported by the next checked call.
    frees_->release([device = device_, host = base_host_, dev = base_dev_] {
      int previous = -1;
      const bool switched = cudaGetDevice(&previous) == cudaSuccess && previous != device &&
                            cudaSetDevice(device) == cudaSuccess;
      if (host != nullptr) {
        cudaFreeHost(host);
      } else if (dev != nullptr) {
        cudaFree(dev);
      }
      if (switched) cudaSetDevice(previous);
    });
  }
  std::uint64_t size() const noexcept override { return size_; }
  void* host_ptr() const noexcept override {
    return base_host_ != nullptr ? static_cast<std::byte*>(base_host_) + guards_.front : nullptr;
  }
  std::uint64_t device_address() const noexcept override {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(base_dev_)) + guards_.front;
  }
  bool guarded() const noexcept override { return guarded_; }
  backend::GuardDamage check_guards() override {
    if (!guarded_) return {};
    if (base_host_ != nullptr) {
      return backend::check_and_restore_guards(static_cast<std::byte*>(host_ptr()), size_, guards_);
    }
    // Device memory: copy both guards back, compare, refill what changed.
    DeviceScope scope(device_);
    std::vector<std::byte> front(guards_.front), back(guards_.back);
    auto* after = static_cast<std::byte*>(base_dev_) + guards_.front + size_;
    SPOOL_CUDA(cudaMemcpy(front.data(), base_dev_, front.size(), cudaMemcpyDeviceToHost));
    SPOOL_CUDA(cudaMemcpy(back.data(), after, back.size(), cudaMemcpyDeviceToHost));
    const backend::GuardDamage d = backend::inspect_guards(front.data(), back.data(), size_, guards_);
    if (d.bytes_before != 0) SPOOL_CUDA(cudaMemset(base_dev_, backend::kGuardByte, guards_.front));
    if (d.bytes_after != 0) SPOOL_CUDA(cudaMemset(after, backend::kGuardByte, guards_.back));
    return d;
  }

 private:
  int device_;
  std::uint64_t size_;
  bool guarded_;
  backend::GuardLayout guards_;  // zero unless guarded
  void* base_host_ = nullptr;    // whole allocations, guards included
  void* base_dev_ = nullptr;
  std::shared_ptr<DeferredFrees> frees_;
};

std::string hex_uuid(const cudaUUID_t& u) {
  std::string s;
  char b[3];
  for (int i = 0; i < 16; ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(static_cast<unsigned char>(u.bytes[i])));
    s += b;
  }
  return s;
}

std::string cuda_version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace

CuDeviceImpl::CuDeviceImpl(int ordinal, DeviceInfo info, PersistentOptions po, cudaStream_t borrowed)
    : ordinal_(ordinal), info_(std::move(info)), popts_(po), borrowed_(borrowed != nullptr) {
  backend::QueueOptions& qo = popts_.queue;
  qo.loop_budget = 0;  // GPUs do not limit loop iterations
  backend::PersistentQueue::check(qo);
  DeviceScope scope(ordinal_);
  own_stream_ = Stream::non_blocking();
  pstream_ = Stream::non_blocking();
  stream_ = borrowed_ ? borrowed : own_stream_.get();
  ev_start_ = Event::create();
  ev_stop_ = Event::create();
  ev_sync_ = Event::create(cudaEventDisableTiming);
  // The ring: mapped pinned host memory (the host publishes, the device
  // claims); its device control block: device memory (device atomics only).
  void* host = nullptr;
  SPOOL_CUDA(cudaHostAlloc(&host, backend::PersistentQueue::ring_bytes(qo.capacity),
                           cudaHostAllocMapped | cudaHostAllocPortable));
  ring_host_ = static_cast<std::uint32_t*>(host);
  void* dev = nullptr;
  cudaError_t e = cudaHostGetDevicePointer(&dev, host, 0);
  if (e == cudaSuccess) {
    ring_device_ = static_cast<std::uint32_t*>(dev);
    void* dctl = nullptr;
    e = cudaMalloc(&dctl, ring::dctl_words(qo.capacity) * 4);
    if (e == cudaSuccess) dctl_ = static_cast<std::uint32_t*>(dctl);
  }
  if (e != cudaSuccess) {
    cudaFreeHost(host);
    throw_cuda(e, "allocating the persistent queue (cudaHostGetDevicePointer, cudaMalloc)", __FILE__, __LINE__);
  }
  frees_->start_drainer();
  try {
    queue_ = std::make_unique<backend::PersistentQueue>(ring_host_, qo,
                                                        static_cast<backend::PersistentDriver&>(*this));
  } catch (...) {
    cudaFree(dctl_);
    cudaFreeHost(host);
    throw;
  }
}

// Never touches a borrowed stream: every launches/recorded batch has completed
// before execute() returned, so nothing of Spool's is pending on it.
CuDeviceImpl::~CuDeviceImpl() {
  // Runs (or reports failed) every accepted persistent item and parks.
  queue_.reset();
  int previous = -1;
  const bool switched = cudaGetDevice(&previous) == cudaSuccess && previous != ordinal_ &&
                        cudaSetDevice(ordinal_) == cudaSuccess;
  frees_->stop_drainer();
  if (cudaStreamQuery(pstream_.get()) != cudaErrorNotReady) {
    cudaStreamSynchronize(pstream_.get());
    frees_->stopped();
    frees_->drain();
    cudaFreeHost(ring_host_);
    cudaFree(dctl_);
  }  // a hung kernel may still use the ring and deferred memory: leak them rather than corrupt memory
  for (std::size_t i = 0; i < graphs_.size(); ++i) destroy_graph(i);
  ev_sync_.reset();
  ev_start_.reset();
  ev_stop_.reset();
  own_stream_.reset();
  pstream_.reset();  // returns at once; CUDA releases it when a (hung) kernel on it ends
  if (switched) cudaSetDevice(previous);
}

std::string CuDeviceImpl::identity() const {
  return "cuda|" + info_.uuid + "|" + info_.name + "|" + info_.driver_version + "|" + info_.api_version;
}

std::shared_ptr<backend::BufferImpl> CuDeviceImpl::create_buffer(std::uint64_t bytes, bool host_visible) {
  frees_->drain();  // memory released while a persistent kernel was resident
  return std::make_shared<CuBufferImpl>(ordinal_, bytes, host_visible, validate_, frees_);
}

std::vector<std::string> CuDeviceImpl::builtin_kernels() const {
  std::size_t n = 0;
  const auto* t = kernels::builtin_cuda(&n);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(t[i].name);
  return out;
}

std::shared_ptr<backend::KernelImpl> CuDeviceImpl::load_builtin(std::string_view name,
                                                                const backend::KernelVariant& v) {
  const std::uint32_t block = v.workgroup_size != 0 ? v.workgroup_size : kDefaultBlock;
  if (block > info_.limits.max_workgroup_size || block % 32 != 0) {
    throw Error(Errc::invalid_argument,
                "block size " + std::to_string(block) + " must be a multiple of 32 and at most " +
                    std::to_string(info_.limits.max_workgroup_size),
                "load_builtin", {}, __FILE__, __LINE__);
  }
  const std::string key =
      std::string(name) + "/" + (v.workgroup_size == 0 ? std::string("default") : std::to_string(block));
  std::lock_guard lk(cache_mu_);
  if (auto it = builtin_cache_.find(key); it != builtin_cache_.end()) return it->second;
  std::size_t n = 0;
  const auto* t = kernels::builtin_cuda(&n);
  std::string known;
  for (std::size_t i = 0; i < n; ++i) {
    if (t[i].name == name) {
      const ArgLayout* layout = find_layout(name);
      if (layout == nullptr) {
        throw Error(Errc::not_supported, "kernel '" + std::string(name) + "' has no declared argument layout",
                    "load_builtin", {}, __FILE__, __LINE__);
      }
      auto impl = std::make_shared<CuKernelImpl>(ordinal_, t[i], *layout, block);
      // Loaded at the default size: the autotuner races its declared block sizes.
      impl->set_tunable(v.workgroup_size == 0);
      builtin_cache_[key] = impl;
      return impl;
    }
    known += (known.empty() ? "" : ", ") + std::string(t[i].name);
  }
  throw Error(Errc::invalid_argument, "unknown kernel '" + std::string(name) + "' (built-in: " + known + ")",
              "load_builtin", {}, __FILE__, __LINE__);
}

std::shared_ptr<backend::KernelImpl> CuDeviceImpl::load_spirv(std::string name,
                                                              std::span<const std::uint32_t>,
                                                              std::span<const std::uint32_t>,
                                                              const backend::KernelVariant&) {
  throw Error(Errc::not_supported, "the CUDA backend cannot load SPIR-V (kernel '" + name + "')",
              "load_spirv", {}, __FILE__, __LINE__);
}

bool CuDeviceImpl::persistent_resident(const backend::KernelImpl& k) const noexcept {
  return queue_->resident(k);
}

std::uint32_t CuDeviceImpl::ring_word(std::uint32_t w) const noexcept {
  return std::atomic_ref<std::uint32_t>(ring_host_[w]).load(std::memory_order_acquire);
}

void CuDeviceImpl::park_persistent() {
  queue_->park();
  frees_->drain();
}

void CuDeviceImpl::execute(LaunchMode mode, const backend::ExecRequest& req, backend::Completion done) {
  const auto* k = dynamic_cast<const CuKernelImpl*>(req.kernel);
  if (k == nullptr || k->device() != ordinal_) {
    throw Error(Errc::invalid_argument, "kernel was not loaded on this device (" + info_.name + ")",
                "execute", {}, __FILE__, __LINE__);
  }
  check_items(k->desc().name, req.items, k->desc().arg_block_size,
              std::uint64_t{k->block()} * 0x7fffffffull);
  if (borrowed_) check_not_capturing();
  if (mode == LaunchMode::persistent) {
    if (!k->desc().has_persistent) {
      throw Error(Errc::not_supported,
                  "kernel '" + k->desc().name + "' has no persistent variant: " +
                      k->desc().persistent_unavailable_reason,
                  "execute", {}, __FILE__, __LINE__);
    }
    if (borrowed_) {
      execute_persistent_borrowed(*k, req, std::move(done));
    } else {
      queue_->submit(*k, req.items, req.sequential, std::move(done));
    }
    return;
  }
  backend::ExecResult r = queue_->run_exclusive(req.items.size(), [&] {
    DeviceScope scope(ordinal_);
    check_pending(__FILE__, __LINE__, !borrowed_);
    if (mode == LaunchMode::launches) return run_launches(*k, req.items, stream_);
    if (k->is_app()) return run_captured(*k, req.items, req.sequential, true, stream_);
    return run_recorded(*k, req.items, req.sequential, true, stream_);
  });
  frees_->drain();
  done(std::move(r));
}

// ---- backend ----

PersistentOptions persistent_options_from_env() {
  const options::Settings s = options::from_environment();  // range-checked
  PersistentOptions o;
  o.queue = backend::PersistentQueue::options_from(s);
  o.blocks = s.persistent_groups;
  return o;
}

int device_count(std::string* why_none) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  std::string why;
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || e == cudaErrorInitializationError ||
      e == cudaErrorSystemDriverMismatch || e == cudaErrorCompatNotSupportedOnDevice) {
    (void)cudaGetLastError();
    why = std::string(e == cudaErrorNoDevice ? "no CUDA device: " : "no CUDA driver: ") + error_name(e);
    count = 0;
  } else if (e != cudaSuccess) {
    (void)cudaGetLastError();
    why = std::string("CUDA unavailable: cudaGetDeviceCount failed: ") + error_name(e);
    count = 0;
  } else if (count == 0) {
    why = "no CUDA device";
  }
  if (why_none != nullptr && count == 0) *why_none = std::move(why);
  return count;
}

DeviceInfo query_device_info(int ordinal) {
  int driver = 0, runtime = 0;
  SPOOL_CUDA(cudaDriverGetVersion(&driver));
  SPOOL_CUDA(cudaRuntimeGetVersion(&runtime));
  cudaDeviceProp p{};
  SPOOL_CUDA(cudaGetDeviceProperties(&p, ordinal));
  DeviceInfo d;
  d.name = p.name;
  d.backend = BackendKind::cuda;
  d.type = p.integrated != 0 ? DeviceType::integrated_gpu : DeviceType::discrete_gpu;
  d.uuid = hex_uuid(p.uuid);
  d.driver_version = "CUDA driver " + cuda_version_string(driver);
  d.api_version = "CUDA runtime " + cuda_version_string(runtime) + ", sm_" + std::to_string(p.major) +
                  std::to_string(p.minor);
  d.limits.max_workgroup_size = static_cast<std::uint32_t>(p.maxThreadsPerBlock);
  d.limits.max_push_constant_bytes = 4096;  // kernel parameter space
  d.limits.compute_units = static_cast<std::uint32_t>(p.multiProcessorCount);
  d.limits.max_buffer_bytes = p.totalGlobalMem;
  return d;
}

namespace {

class CuBackend final : public backend::Backend {
 public:
  BackendKind kind() const noexcept override { return BackendKind::cuda; }

  std::vector<DeviceInfo> enumerate(std::string* why_none) override {
    std::vector<DeviceInfo> out;
    ordinals_.clear();
    auto none = [&](std::string why) {
      if (why_none != nullptr) *why_none = std::move(why);
      return out;
    };
    try {
      std::string why;
      const int count = device_count(&why);
      if (count == 0) return none(std::move(why));
      for (int i = 0; i < count; ++i) {
        out.push_back(query_device_info(i));
        ordinals_.push_back(i);
      }
    } catch (const Error& err) {
      out.clear();
      ordinals_.clear();
      return none(std::string("CUDA unavailable: ") + err.what());
    }
    return out;
  }

  std::unique_ptr<backend::DeviceImpl> open(std::size_t index) override {
    if (index >= ordinals_.size()) {
      throw Error(Errc::invalid_argument, "CUDA device index out of range", "open", {}, __FILE__, __LINE__);
    }
    std::string why;
    auto infos = enumerate(&why);
    if (index >= infos.size()) {
      throw Error(Errc::device_lost, "CUDA device " + std::to_string(index) + " disappeared: " + why, "open",
                  {}, __FILE__, __LINE__);
    }
    return std::make_unique<CuDeviceImpl>(ordinals_[index], std::move(infos[index]),
                                          persistent_options_from_env());
  }

 private:
  std::vector<int> ordinals_;
};

}  // namespace

std::unique_ptr<backend::Backend> make_backend() { return std::make_unique<CuBackend>(); }

}  // namespace spool::cuda
