// A mock backend for the dispatcher's unit tests: it runs nothing on a
// device; it records what it was asked and completes with a scripted time.
// Never used to demonstrate a feature (the Vulkan tests do that).
#pragma once

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "spool/backend/backend.hpp"
#include "spool/error.hpp"

namespace spool::test {

class MockBuffer final : public backend::BufferImpl {
 public:
  explicit MockBuffer(std::uint64_t n) : bytes_(n) {}
  std::uint64_t size() const noexcept override { return bytes_.size(); }
  void* host_ptr() const noexcept override { return const_cast<std::byte*>(bytes_.data()); }
  std::uint64_t device_address() const noexcept override {
    return reinterpret_cast<std::uint64_t>(bytes_.data());
  }

 private:
  std::vector<std::byte> bytes_;
};

class MockKernel final : public backend::KernelImpl {
 public:
  explicit MockKernel(backend::KernelDesc d) : d_(std::move(d)) {}
  const backend::KernelDesc& desc() const noexcept override { return d_; }

 private:
  backend::KernelDesc d_;
};

struct MockCall {
  LaunchMode mode;
  std::size_t items;
  bool sequential;
};

class MockDevice final : public backend::DeviceImpl {
 public:
  MockDevice() {
    info_.name = "mock device";
    info_.backend = BackendKind::mock;
    info_.type = DeviceType::other;
    profile_.launch_ns = 10'000;
    profile_.record_setup_ns = 20'000;
    profile_.replay_ns = 1'000;
    profile_.persistent_setup_ns = 200'000;
    profile_.queue_item_ns = 200;
    profile_.recorded_available = profile_.persistent_available = true;
  }
  const DeviceInfo& info() const noexcept override { return info_; }
  std::string identity() const override { return "mock"; }
  std::shared_ptr<backend::BufferImpl> create_buffer(std::uint64_t n, bool) override {
    return std::make_shared<MockBuffer>(n);
  }
  std::vector<std::string> builtin_kernels() const override { return {"axpy"}; }
  std::shared_ptr<backend::KernelImpl> load_builtin(std::string_view name,
                                                    const backend::KernelVariant&) override {
    if (name != "axpy") SPOOL_THROW(Errc::invalid_argument, "unknown kernel '" + std::string(name) + "'");
    backend::KernelDesc d;
    d.name = "axpy";
    d.variant = "wg=64";
    d.source_hash = "h";
    d.args = {{"x", ArgKind::buffer, 0, 8}, {"y", ArgKind::buffer, 8, 8}, {"a", ArgKind::f32, 16, 4},
              {"n", ArgKind::u32, 20, 4}};
    d.arg_block_size = 24;
    d.has_persistent = persistent_kernel;
    if (!persistent_kernel) d.persistent_unavailable_reason = "no persistent variant was supplied";
    return std::make_shared<MockKernel>(d);
  }
  std::shared_ptr<backend::KernelImpl> load_spirv(std::string, std::span<const std::uint32_t>,
                                                  std::span<const std::uint32_t>,
                                                  const backend::KernelVariant&) override {
    SPOOL_THROW(Errc::not_supported, "mock: no SPIR-V");
  }
  bool supports(LaunchMode) const noexcept override { return true; }
  bool persistent_resident(const backend::KernelImpl&) const noexcept override { return resident; }
  void execute(LaunchMode mode, const backend::ExecRequest& req, backend::Completion done) override {
    {
      std::lock_guard lk(mu);
      calls.push_back({mode, req.items.size(), req.sequential});
    }
    backend::ExecResult r;
    r.items_run = static_cast<std::uint32_t>(req.items.size());
    r.wall_ns = scripted_wall_ns[static_cast<std::size_t>(mode)];
    r.device_ns = scripted_device_ns[static_cast<std::size_t>(mode)];
    r.was_resident = mode == LaunchMode::persistent && resident;
    done(std::move(r));
  }
  LaunchProfile calibrate() override { return profile_; }
  void park_persistent() override {}

  std::mutex mu;
  std::vector<MockCall> calls;
  bool resident = false;
  bool persistent_kernel = true;
  double scripted_wall_ns[3] = {1'000, 1'000, 1'000};  // per mode
  double scripted_device_ns[3] = {-1, -1, -1};         // per mode; < 0: not measured

 private:
  DeviceInfo info_;
  LaunchProfile profile_;
};

class MockBackend final : public backend::Backend {
 public:
  explicit MockBackend(MockDevice** out) : out_(out) {}
  BackendKind kind() const noexcept override { return BackendKind::mock; }
  std::vector<DeviceInfo> enumerate(std::string*) override { return {MockDevice().info()}; }
  std::unique_ptr<backend::DeviceImpl> open(std::size_t) override {
    auto d = std::make_unique<MockDevice>();
    if (out_ != nullptr) *out_ = d.get();
    return d;
  }

 private:
  MockDevice** out_;
};

}  // namespace spool::test
