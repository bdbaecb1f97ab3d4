// The backend contract. The runtime core (Runtime, Device, Dispatcher) talks
// to a GPU API only through these interfaces; each backend (spool::vulkan,
// spool::cuda) implements them in its own target, and the core never includes
// a backend. A mock implementation drives the dispatcher's unit tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spool/args.hpp"
#include "spool/backend/guards.hpp"
#include "spool/types.hpp"

namespace spool::backend {

class BufferImpl {
 public:
  virtual ~BufferImpl() = default;
  virtual std::uint64_t size() const noexcept = 0;
  virtual void* host_ptr() const noexcept = 0;  // nullptr when not host visible
  virtual std::uint64_t device_address() const noexcept = 0;
  // Validation mode (spool/backend/guards.hpp): whether this buffer has
  // guards, and what changed in them since the last check (they are then
  // refilled). Call only when no batch using the buffer runs.
  virtual bool guarded() const noexcept { return false; }
  virtual GuardDamage check_guards() { return {}; }
};

struct KernelDesc {
  std::string name;
  std::string variant;      // canonical variant parameters, e.g. "wg=64"
  std::string source_hash;
  std::vector<ArgSpec> args;
  std::uint32_t arg_block_size = 0;
  bool has_persistent = false;
  std::string persistent_unavailable_reason;
  // Loaded with the default variant, and other variants (KernelVariant) can
  // be built from the same source: the autotuner may race them
  // (DeviceImpl::load_variant). Built-ins, and modules that declare sizes.
  bool tunable = false;
  // Workgroup sizes this kernel declares for racing (spool_add_kernels
  // WORKGROUP_SIZES, the CUDA built-ins' block sizes); empty: the device's
  // list (SPOOL_AUTOTUNE_WG).
  std::vector<std::uint32_t> race_workgroups;
  double compile_ns = 0;  // measured time to build this variant (side-compile cost)
};

class KernelImpl {
 public:
  virtual ~KernelImpl() = default;
  virtual const KernelDesc& desc() const noexcept = 0;
};

// Variant parameters a kernel is loaded with (autotune candidates).
struct KernelVariant {
  std::uint32_t workgroup_size = 0;  // 0: the backend's default
};

// A SPIR-V module and what its builder knows about its source
// (spool::EmbeddedKernel from spool_add_kernels()).
struct SpirvModule {
  std::string name;
  std::span<const std::uint32_t> launch;
  std::span<const std::uint32_t> persistent;  // may be empty
  std::string source_hash;                    // empty: derived from the words
  // Non-empty: sizes the autotuner may race (the module must then take its
  // workgroup size from specialization constant 0).
  std::vector<std::uint32_t> race_workgroups;
};

// One work item: the body runs for i in [begin, grid). `begin` is 0 for
// items of a batch; the persistent queue re-runs parts of split items
// (chunks) with begin > 0 after a recovery.
struct PackedItem {
  std::uint32_t grid = 0;
  std::uint32_t index = 0;        // index within the batch
  const std::byte* args = nullptr;// KernelDesc::arg_block_size bytes
  std::uint32_t begin = 0;
};

struct ExecRequest {
  KernelImpl* kernel = nullptr;
  std::span<const PackedItem> items;
  bool sequential = false;
};

struct ExecResult {
  double wall_ns = 0;          // from the start of execute() to completion
  double device_ns = -1;       // device time of the dispatches when measured, else < 0
  std::uint32_t items_run = 0;
  std::uint32_t items_failed = 0;
  bool watchdog_fired = false;
  std::uint32_t fallback_items = 0;
  bool was_resident = false;   // persistent: the kernel was already running
  double parked_ns = 0;        // launches/recorded: time spent parking a resident persistent kernel first
  std::string failure;
};

using Completion = std::function<void(ExecResult&&)>;

class DeviceImpl {
 public:
  virtual ~DeviceImpl() = default;
  virtual const DeviceInfo& info() const noexcept = 0;
  // A stable identity of device + driver (+ toolkit), for caching profiles.
  virtual std::string identity() const = 0;

  virtual std::shared_ptr<BufferImpl> create_buffer(std::uint64_t bytes, bool host_visible) = 0;

  virtual std::vector<std::string> builtin_kernels() const = 0;
  // Throws spool::Error(invalid_argument) for an unknown name.
  virtual std::shared_ptr<KernelImpl> load_builtin(std::string_view name, const KernelVariant& v) = 0;
  // Loads a kernel from SPIR-V (launch variant, optional persistent variant).
  // Backends without SPIR-V throw spool::Error(not_supported).
  virtual std::shared_ptr<KernelImpl> load_spirv(std::string name,
                                                 std::span<const std::uint32_t> launch,
                                                 std::span<const std::uint32_t> persistent,
                                                 const KernelVariant& v) = 0;

  // A module with a known source hash and declared variants. The default
  // ignores both (load_spirv); backends that can race modules override it.
  virtual std::shared_ptr<KernelImpl> load_module(const SpirvModule& m, const KernelVariant& v) {
    return load_spirv(m.name, m.launch, m.persistent, v);
  }
  // Another variant of a tunable kernel this device loaded (autotune
  // racing). The default reloads a built-in by name.
  virtual std::shared_ptr<KernelImpl> load_variant(const KernelImpl& k, const KernelVariant& v) {
    return load_builtin(k.desc().name, v);
  }

  virtual bool supports(LaunchMode m) const noexcept = 0;
  // Why supports(m) is false, for the caller's error message.
  virtual std::string unsupported_reason(LaunchMode /*m*/) const {
    return "the device does not support it";
  }
  virtual bool persistent_resident(const KernelImpl& k) const noexcept = 0;

  // Runs a batch in the given mode. The request (and the memory its items
  // point to) stays valid until `done` is called. Backends may call `done`
  // before returning (launches, recorded) or later from another thread
  // (persistent). Errors in the request throw; failures during execution are
  // reported through ExecResult (items_failed, failure), never lost.
  virtual void execute(LaunchMode mode, const ExecRequest& req, Completion done) = 0;

  // Validation mode: from now on create_buffer() surrounds every buffer
  // with guards (BufferImpl::check_guards). Called before any buffer is
  // created; false when the backend cannot (the runtime then warns).
  virtual bool enable_validation() { return false; }

  // A directory where the backend may keep compiled-pipeline caches across
  // runs (next to the autotune store). Called once, before any kernel loads.
  virtual void attach_cache_dir(const std::string& /*dir*/) {}

  // Measures the launch profile under the conditions the process runs in.
  virtual LaunchProfile calibrate() = 0;
  // A few probes per mode (well under 50 ms): how a stored profile is
  // checked before it is trusted. Backends without one measure fully.
  virtual LaunchProfile calibrate_quick() { return calibrate(); }
  // Stops a resident persistent kernel (waits for it to exit).
  virtual void park_persistent() = 0;
  // Moves asynchronous (persistent) work forward from the calling thread: a
  // thread waiting for a batch reaps finished items and completes batches
  // itself instead of waiting for the backend's engine thread to notice.
  // Never blocks for long; completions may run in the calling thread.
  virtual void poll_progress() {}
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const noexcept = 0;
  // Devices this backend can open; an unavailable API yields an empty list
  // and a reason in `why_none` (e.g. "no CUDA driver").
  virtual std::vector<DeviceInfo> enumerate(std::string* why_none) = 0;
  virtual std::unique_ptr<DeviceImpl> open(std::size_t index) = 0;
};

}  // namespace spool::backend
