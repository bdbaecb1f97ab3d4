// spool::Device — an opened device: its info, its measured launch profile,
// kernels, buffers and the dispatcher that runs batches on it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spool/backend/backend.hpp"
#include "spool/batch.hpp"
#include "spool/buffer.hpp"
#include "spool/dispatcher.hpp"
#include "spool/embedded_kernel.hpp"
#include "spool/kernel.hpp"
#include "spool/telemetry.hpp"
#include "spool/types.hpp"

namespace spool {

class Dispatcher;
struct DeviceOptions;

class Device {
 public:
  Device(std::unique_ptr<backend::DeviceImpl> impl, const DeviceOptions& opts);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceInfo& info() const noexcept;
  const std::string& name() const noexcept { return info().name; }
  BackendKind backend() const noexcept { return info().backend; }
  // The launch profile the dispatcher currently believes (calibrated, then
  // refined online from real batches).
  LaunchProfile profile() const;
  // Re-measures the profile under the current conditions.
  void recalibrate();

  std::vector<std::string> builtin_kernels() const;
  // A built-in kernel; throws spool::Error(invalid_argument) naming the known
  // kernels when `name` is unknown.
  Kernel kernel(std::string_view name, const backend::KernelVariant& v = {});
  // A kernel from SPIR-V words (launch variant; persistent variant optional).
  Kernel load_spirv(std::string name, std::span<const std::uint32_t> launch,
                    std::span<const std::uint32_t> persistent = {},
                    const backend::KernelVariant& v = {});
  // A kernel embedded at build time (spool_add_kernels(), see
  // docs/integration.md): both variants, argument layout reflected. Its
  // autotune rows are keyed by its source hash; loaded without a variant, it
  // races the WORKGROUP_SIZES it declares (if any), like the built-ins.
  Kernel load(const EmbeddedKernel& k, const backend::KernelVariant& v = {});
  // Reads a SPIR-V file (and optional persistent-variant file).
  Kernel load_spirv_file(std::string name, const std::string& launch_path,
                         const std::string& persistent_path = {},
                         const backend::KernelVariant& v = {});

  Buffer buffer(std::uint64_t bytes, Memory memory = Memory::host_visible);

  Dispatcher& dispatcher() noexcept { return *dispatcher_; }
  // Shorthands for dispatcher().submit / submit().wait().
  Submission submit(Batch batch, const SubmitOptions& o = {});
  Verdict run(Batch batch, const SubmitOptions& o = {});

  // Stops a resident persistent kernel now (it also parks itself when idle).
  void park_persistent();

  void add_telemetry_sink(std::shared_ptr<TelemetrySink> sink);

  backend::DeviceImpl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<backend::DeviceImpl> impl_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace spool
