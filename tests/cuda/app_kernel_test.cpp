// Application kernels and the interop API, host side (no GPU needed): the
// descriptors SPOOL_CUDA_APP_KERNEL builds (compiled by nvcc in
// test_app_kernels.cu and samples/cuda_interop/app_kernels.cu), their
// checks, Batch::add argument checking for app kernels, the checks on
// wrapped application pointers, and the interop calls' argument errors.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app.hpp"  // samples/cuda_interop
#include "cu_app_kernel.hpp"
#include "cu_kernel.hpp"
#include "cu_wrap.hpp"
#include "spool/batch.hpp"
#include "spool/cuda/backend.hpp"
#include "spool/cuda/interop.hpp"
#include "spool/error.hpp"
#include "test_app_kernels.hpp"

namespace {

using spool::ArgKind;
using spool::Errc;
using spool::cuda::AppArgKind;
using spool::cuda::AppKernelDesc;
using spool::cuda::PointerFacts;

// The message of the spool::Error f throws (checking its code), "" if none.
std::string error_of(const std::function<void()>& f, Errc code = Errc::invalid_argument) {
  try {
    f();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  return {};
}

#define EXPECT_ERROR(stmt, text) EXPECT_NE(error_of([&] { stmt; }).find(text), std::string::npos) << #stmt

TEST(CudaAppKernel, DeclaredLayoutIsTheStructsLayout) {
  using test_app::MixedArgs;
  const AppKernelDesc& d = test_app::mixed_kernel();
  EXPECT_EQ(d.abi_version, spool::cuda::kAppKernelAbiVersion);
  EXPECT_STREQ(d.name, "test.mixed");
  EXPECT_EQ(d.args_size, sizeof(MixedArgs));  // nvcc's layout = g++'s layout
  EXPECT_EQ(d.args_align, alignof(MixedArgs));
  struct Want {
    const char* name;
    AppArgKind kind;
    std::size_t offset, size;
  };
  const Want want[] = {{"k", AppArgKind::i32, offsetof(MixedArgs, k), 4},
                       {"p", AppArgKind::buffer, offsetof(MixedArgs, p), 8},
                       {"m", AppArgKind::u32, offsetof(MixedArgs, m), 4},
                       {"f", AppArgKind::f32, offsetof(MixedArgs, f), 4}};
  ASSERT_EQ(d.arg_count, 4u);
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_STREQ(d.args[i].name, want[i].name);
    EXPECT_EQ(d.args[i].kind, want[i].kind) << i;
    EXPECT_EQ(d.args[i].offset, want[i].offset) << i;
    EXPECT_EQ(d.args[i].size, want[i].size) << i;
  }
  EXPECT_NE(d.launch, nullptr);
  EXPECT_NE(d.probe, nullptr);
  EXPECT_NE(d.launch_persistent, nullptr);
  EXPECT_NE(d.persistent_occupancy, nullptr);

  const AppKernelDesc& axpy = app::axpy_kernel();  // the sample's body
  EXPECT_STREQ(axpy.name, "app.axpy");
  ASSERT_EQ(axpy.arg_count, 4u);
  EXPECT_EQ(axpy.args[1].offset, offsetof(app::AxpyArgs, y));
  EXPECT_EQ(axpy.args[3].offset, offsetof(app::AxpyArgs, n));
  EXPECT_EQ(axpy.args_size, sizeof(app::AxpyArgs));
}

TEST(CudaAppKernel, ArgumentsLargerThanAQueueSlotHaveNoPersistentVariantAndSayWhy) {
  const AppKernelDesc& slot = test_app::slot_kernel();
  EXPECT_EQ(slot.args_size, 96u);
  EXPECT_NE(slot.launch_persistent, nullptr);
  const auto s = spool::cuda::describe_app_kernel(slot, 64);
  EXPECT_TRUE(s.has_persistent);
  EXPECT_EQ(s.persistent_unavailable_reason, "");

  const AppKernelDesc& wide = test_app::wide_kernel();
  EXPECT_EQ(wide.args_size, 104u);
  EXPECT_EQ(wide.launch_persistent, nullptr);
  EXPECT_EQ(wide.persistent_occupancy, nullptr);
  const auto w = spool::cuda::describe_app_kernel(wide, 64);
  EXPECT_FALSE(w.has_persistent);
  EXPECT_EQ(w.persistent_unavailable_reason,
            "arguments of 104 bytes do not fit the 96-byte argument area of a queue slot");
  EXPECT_EQ(w.args.size(), 14u);
}

TEST(CudaAppKernel, DescriptionCarriesTheDeclaredArguments) {
  const auto k = spool::cuda::describe_app_kernel(test_app::mixed_kernel(), 128);
  EXPECT_EQ(k.name, "test.mixed");
  EXPECT_EQ(k.variant, "wg=128");
  EXPECT_EQ(k.arg_block_size, 24u);
  EXPECT_FALSE(k.tunable);
  ASSERT_EQ(k.args.size(), 4u);
  EXPECT_EQ(k.args[0].kind, ArgKind::i32);
  EXPECT_EQ(k.args[1].kind, ArgKind::buffer);
  EXPECT_EQ(k.args[2].kind, ArgKind::u32);
  EXPECT_EQ(k.args[3].kind, ArgKind::f32);
  EXPECT_EQ(k.args[3].name, "f");
  EXPECT_EQ(k.source_hash, "app:test.mixed(k:i32@0,p:buffer@8,m:u32@16,f:f32@20,)24");
  EXPECT_EQ(spool::cuda::describe_app_kernel(test_app::mixed_kernel(), 64, "v7").source_hash, "app:v7");
}

// A kernel object over an app descriptor needs no GPU: Batch::add checks
// the declared arguments exactly as for built-ins.
TEST(CudaAppKernel, BatchAddChecksAppKernelArgumentsLikeBuiltins) {
  const AppKernelDesc& d = test_app::mixed_kernel();
  spool::Kernel k(std::make_shared<spool::cuda::CuKernelImpl>(0, d, spool::cuda::describe_app_kernel(d, 64), 64));
  void* fake = reinterpret_cast<void*>(std::uintptr_t{0x10000});
  const spool::Buffer buf(std::make_shared<spool::cuda::WrappedBuffer>(fake, 4096, nullptr, nullptr));
  spool::Batch b(k);
  using spool::arg;
  ASSERT_NO_THROW(b.add(16, {arg(std::int32_t{-3}), arg(buf, 64), arg(16u), arg(0.5f)}));
  test_app::MixedArgs packed{};
  std::memcpy(&packed, b.packed_args(0), sizeof packed);
  EXPECT_EQ(packed.k, -3);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(packed.p), 0x10000u + 64u);
  EXPECT_EQ(packed.m, 16u);
  EXPECT_EQ(packed.f, 0.5f);
  EXPECT_ERROR(b.add(16, {arg(std::int32_t{-3}), arg(buf), arg(16u)}), "expected 4 arguments, got 3");
  EXPECT_ERROR(b.add(16, {arg(std::int32_t{-3}), arg(buf), arg(0.5f), arg(16u)}),
               "argument 2 ('m') must be u32, got f32");
  EXPECT_ERROR(b.add(16, {arg(buf), arg(buf), arg(16u), arg(0.5f)}), "argument 0 ('k') must be i32, got buffer");
  EXPECT_ERROR(b.add(16, {arg(std::int32_t{1}), arg(buf, 4096), arg(16u), arg(0.5f)}), "past the buffer's 4096 bytes");
  EXPECT_ERROR(b.add(0, {arg(std::int32_t{1}), arg(buf), arg(16u), arg(0.5f)}), "grid must be at least 1");
  EXPECT_EQ(b.size(), 1u);
  EXPECT_TRUE(k.has_persistent());

  const AppKernelDesc& w = test_app::wide_kernel();
  spool::Kernel wide(std::make_shared<spool::cuda::CuKernelImpl>(0, w, spool::cuda::describe_app_kernel(w, 64), 64));
  EXPECT_FALSE(wide.has_persistent());
  EXPECT_NE(wide.persistent_unavailable_reason().find("104 bytes"), std::string::npos);
}

TEST(CudaAppKernel, RejectsBadDescriptors) {
  using spool::cuda::describe_app_kernel;
  const AppKernelDesc good = test_app::mixed_kernel();
  AppKernelDesc d = good;
  d.abi_version = 99;
  EXPECT_ERROR(describe_app_kernel(d, 64), "ABI version 99");
  d = good;
  d.launch = nullptr;
  EXPECT_ERROR(describe_app_kernel(d, 64), "no launch thunk");
  d = good;
  d.persistent_occupancy = nullptr;
  EXPECT_ERROR(describe_app_kernel(d, 64), "only one of the persistent thunks");
  d = good;
  d.name = "saxpy";
  EXPECT_ERROR(describe_app_kernel(d, 64), "the name of a built-in kernel");
  d.name = "my kernel";
  EXPECT_ERROR(describe_app_kernel(d, 64), "names use only");
  d.name = "";
  EXPECT_ERROR(describe_app_kernel(d, 64), "empty name");
  d = good;
  d.arg_count = 0;
  EXPECT_ERROR(describe_app_kernel(d, 64), "no declared arguments");

  spool::cuda::AppArg args[4];
  for (int i = 0; i < 4; ++i) args[i] = good.args[i];
  d = good;
  d.args = args;
  args[2].kind = static_cast<AppArgKind>(9);
  EXPECT_ERROR(describe_app_kernel(d, 64), "unknown kind");
  args[2] = good.args[2];
  args[3].offset = 16;  // on top of 'm'
  EXPECT_ERROR(describe_app_kernel(d, 64), "overlaps argument 2 ('m')");
  args[3] = good.args[3];
  args[1].offset = 4;  // a device pointer at 4
  EXPECT_ERROR(describe_app_kernel(d, 64), "not 8-byte aligned");
  args[1] = good.args[1];
  d.args_size = 20;  // not a multiple of the struct's alignment
  EXPECT_ERROR(describe_app_kernel(d, 64), "alignment 8 is not a power of two <= 16 dividing its size");
  d.args_align = 4;  // and 'f' at 20..24 past the block
  EXPECT_ERROR(describe_app_kernel(d, 64), "run past the 20-byte block");
  d = test_app::wide_kernel();
  d.launch_persistent = good.launch_persistent;
  d.persistent_occupancy = good.persistent_occupancy;
  EXPECT_ERROR(describe_app_kernel(d, 64), "persistent thunk for arguments larger than a queue slot");
}

TEST(CudaWrap, ChecksNullSizeKindDeviceAndRange) {
  using spool::cuda::check_wrap;
  const std::uint64_t base = 0x7f0000000000, at = base + 0x1000;
  const void* p = reinterpret_cast<const void*>(static_cast<std::uintptr_t>(at));
  const PointerFacts dev{cudaMemoryTypeDevice, 0, at, base, 0x10000};
  EXPECT_NO_THROW(check_wrap(0, p, 0xf000, dev, nullptr, nullptr));  // up to the allocation's end
  EXPECT_ERROR(check_wrap(0, nullptr, 16, dev, nullptr, nullptr), "the device pointer is null");
  EXPECT_ERROR(check_wrap(0, p, 0, dev, nullptr, nullptr), "0 bytes at 0x7f0000001000");
  EXPECT_ERROR(check_wrap(0, p, 0x10000, dev, nullptr, nullptr),
               "run past the end of their allocation (0x7f0000000000, 65536 bytes): 4096 bytes too many");
  EXPECT_ERROR(check_wrap(1, p, 16, dev, nullptr, nullptr), "device memory of CUDA device 0, not of device 1");
  EXPECT_ERROR(check_wrap(0, p, 16, PointerFacts{}, nullptr, nullptr), "unregistered host memory");
  PointerFacts no_extent = dev;
  no_extent.alloc_bytes = 0;
  EXPECT_ERROR(check_wrap(0, p, 16, no_extent, nullptr, nullptr), "did not report the extent");

  const PointerFacts managed{cudaMemoryTypeManaged, 0, at, base, 0x10000};
  EXPECT_NO_THROW(check_wrap(3, p, 16, managed, p, &managed));  // managed: its own host view
  const PointerFacts mapped{cudaMemoryTypeHost, 0, at, 0, 0};  // mapped pinned, extent unknown
  EXPECT_NO_THROW(check_wrap(0, p, 16, mapped, nullptr, nullptr));
  PointerFacts elsewhere = mapped;
  elsewhere.device_pointer = base;
  EXPECT_ERROR(check_wrap(0, p, 16, elsewhere, nullptr, nullptr), "pass the device pointer of this mapped memory");
  PointerFacts unmapped = mapped;
  unmapped.device_pointer = 0;
  EXPECT_ERROR(check_wrap(0, p, 16, unmapped, nullptr, nullptr), "not mapped into the device");
  const void* h = reinterpret_cast<const void*>(std::uintptr_t{0x1000});
  EXPECT_ERROR(check_wrap(0, p, 16, dev, h, &unmapped), "is not the host view of this memory");
  EXPECT_ERROR(check_wrap(0, p, 16, dev, h, &elsewhere), "it maps to 0x7f0000000000");
}

TEST(CudaInterop, RejectsNullAndPerThreadStreamsBeforeAskingCuda) {
  using spool::cuda::open_device;
  EXPECT_ERROR(open_device({0, nullptr}), "BorrowedStream::stream is null");
  EXPECT_ERROR(open_device({0, cudaStreamPerThread}), "cudaStreamPerThread is a different stream in every thread");
  EXPECT_ERROR(open_device({-1, cudaStreamLegacy}), "negative device ordinal -1");
}

TEST(CudaInterop, WithoutADeviceOpenDeviceSaysWhy) {
  std::string why;
  if (!spool::cuda::make_backend()->enumerate(&why).empty()) {
    GTEST_SKIP() << "a CUDA device is present (cuda_interop_gpu_test covers open_device)";
  }
  const std::string msg = error_of([] { spool::cuda::open_device({0, cudaStreamLegacy}); }, Errc::not_supported);
  EXPECT_NE(msg.find(why), std::string::npos) << msg << " / " << why;
}

// A device of another backend (a stand-in; no GPU needed).
class FakeDevice final : public spool::backend::DeviceImpl {
 public:
  FakeDevice() {
    info_.name = "fake";
    info_.backend = spool::BackendKind::mock;
  }
  const spool::DeviceInfo& info() const noexcept override { return info_; }
  std::string identity() const override { return "fake"; }
  std::shared_ptr<spool::backend::BufferImpl> create_buffer(std::uint64_t, bool) override { return nullptr; }
  std::vector<std::string> builtin_kernels() const override { return {}; }
  std::shared_ptr<spool::backend::KernelImpl> load_builtin(std::string_view, const spool::backend::KernelVariant&) override {
    return nullptr;
  }
  std::shared_ptr<spool::backend::KernelImpl> load_spirv(std::string, std::span<const std::uint32_t>,
                                                         std::span<const std::uint32_t>,
                                                         const spool::backend::KernelVariant&) override {
    return nullptr;
  }
  bool supports(spool::LaunchMode) const noexcept override { return false; }
  bool persistent_resident(const spool::backend::KernelImpl&) const noexcept override { return false; }
  void execute(spool::LaunchMode, const spool::backend::ExecRequest&, spool::backend::Completion) override {}
  spool::LaunchProfile calibrate() override { return {}; }
  void park_persistent() override {}

 private:
  spool::DeviceInfo info_;
};

TEST(CudaInterop, InteropCallsOnADeviceOfAnotherBackendAreRejected) {
  spool::DeviceOptions o;
  o.calibrate = false;
  o.autotune = "off";
  o.telemetry_path = "";
  spool::Device dev(std::make_unique<FakeDevice>(), o);
  int x = 0;
  EXPECT_ERROR(spool::cuda::wrap_device_pointer(dev, &x, 4), "device 'fake' is a mock device, not a CUDA device");
  EXPECT_ERROR(spool::cuda::load_kernel(dev, test_app::mixed_kernel()), "not a CUDA device");
}

TEST(CudaAppKernel, ThunksReturnCudaErrorsWithoutADevice) {
  std::string why;
  if (!spool::cuda::make_backend()->enumerate(&why).empty()) {
    GTEST_SKIP() << "a CUDA device is present (cuda_interop_gpu_test runs the thunks)";
  }
  int launch_max = -1, persistent_max = -1;
  EXPECT_NE(test_app::mixed_kernel().probe(0, &launch_max, &persistent_max), cudaSuccess);
  alignas(8) std::byte args[24] = {};
  EXPECT_NE(test_app::mixed_kernel().launch(0, 1, 0, 0, args, 64, nullptr), cudaSuccess);
}

TEST(CudaAppKernel, LaunchThunkRefusesAFirstIndexNotBelowTheGridBeforeCallingCuda) {
  alignas(8) std::byte args[24] = {};
  const AppKernelDesc& d = test_app::mixed_kernel();
  EXPECT_EQ(d.launch(0, 4, 0, 4, args, 64, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(d.launch(0, 4, 0, 9, args, 64, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(d.launch(0, 4, 0, 0, nullptr, 64, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(d.launch(0, 4, 0, 0, args, 0, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(d.abi_version, 2u);  // base index and device control block (ring_abi.h)
}

}  // namespace
