// CuKernelImpl: a kernel the CUDA backend can run, either
//   * built in (kernels/cuda/builtin.cu): host stubs registered in Spool's own
//     CUDA runtime, launched with cudaLaunchKernel and usable as explicit
//     graph kernel nodes; or
//   * defined by the application (spool/cuda/app_kernel.cuh): launched only
//     through the thunks of its descriptor, which run in the application's
//     CUDA runtime instance (recorded mode captures those launches).
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "builtin_table.hpp"
#include "cu_args.hpp"
#include "spool/backend/backend.hpp"
#include "spool/cuda/app_kernel_desc.hpp"

namespace spool::cuda {

// Kernel parameters (uint32_t grid, uint32_t item, uint32_t base, Args):
// the body runs for i in [base, grid); the fourth pointer points at the
// packed argument block, which has Args' layout.
struct LaunchParams {
  std::uint32_t grid;
  std::uint32_t item;
  std::uint32_t base;
  void* ptrs[4];
  explicit LaunchParams(const backend::PackedItem& it) : grid(it.grid), item(it.index), base(it.begin) {
    ptrs[0] = &grid;
    ptrs[1] = &item;
    ptrs[2] = &base;
    ptrs[3] = const_cast<std::byte*>(it.args);
  }
  LaunchParams(const LaunchParams&) = delete;
  LaunchParams& operator=(const LaunchParams&) = delete;
};

// Threads per block of a kernel loaded without a variant.
inline constexpr std::uint32_t kDefaultBlock = 64;

// What to do when an application kernel has no image for this device;
// empty for other errors.
std::string app_image_hint(cudaError_t e);

// Blocks of `block` threads covering `grid` indices (no overflow near 2^32).
inline std::uint32_t blocks_for(std::uint32_t grid, std::uint32_t block) noexcept {
  return grid / block + (grid % block != 0 ? 1u : 0u);
}
// Blocks of one launch of item `it`: its indices [begin, grid).
inline std::uint32_t blocks_for(const backend::PackedItem& it, std::uint32_t block) noexcept {
  return blocks_for(it.grid - it.begin, block);
}

class CuKernelImpl final : public backend::KernelImpl {
 public:
  CuKernelImpl(int device, const kernels::BuiltinCuda& k, const ArgLayout& layout, std::uint32_t block);
  // `desc` from describe_app_kernel (cu_app_kernel.hpp).
  CuKernelImpl(int device, const AppKernelDesc& app, backend::KernelDesc desc, std::uint32_t block);

  const backend::KernelDesc& desc() const noexcept override { return desc_; }
  void set_tunable(bool t) noexcept { desc_.tunable = t; }
  int device() const noexcept { return device_; }
  std::uint32_t block() const noexcept { return block_; }
  bool is_app() const noexcept { return app_.has_value(); }
  const std::optional<AppKernelDesc>& app() const noexcept { return app_; }
  // Built-in kernels only (explicit graph nodes): the host stub.
  const void* launch_fn() const noexcept { return launch_; }

  // Indices [it.begin, it.grid) of one item on `stream` (the current device
  // is this kernel's). Throws spool::Error naming the kernel and the failed
  // launch.
  void launch(const backend::PackedItem& it, cudaStream_t stream) const;
  // The persistent kernel over `ring` (device address of the mapped ring)
  // and `dctl` (device control block), `blocks` x block().
  void launch_persistent(std::uint32_t* ring, std::uint32_t* dctl, std::uint32_t blocks,
                         cudaStream_t stream) const;
  // Resident blocks per SM of the persistent kernel (asked once, then cached).
  int persistent_occupancy() const;

 private:
  [[noreturn]] void fail(cudaError_t e, const char* what, const char* file, int line) const;

  int device_;
  const void* launch_ = nullptr;
  const void* persistent_ = nullptr;
  std::optional<AppKernelDesc> app_;
  std::uint32_t block_;
  backend::KernelDesc desc_;
  mutable std::atomic<int> occupancy_{-1};
};

}  // namespace spool::cuda
