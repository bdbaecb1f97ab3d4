#include "cu_kernel.hpp"

#include <string>

#include "cu_check.hpp"
#include "spool/backend/ring_abi.h"

namespace spool::cuda {

namespace {

bool no_image(cudaError_t e) noexcept {
  return e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction ||
         e == cudaErrorInvalidKernelImage || e == cudaErrorInvalidPtx ||
         e == cudaErrorUnsupportedPtxVersion;
}

}  // namespace

std::string app_image_hint(cudaError_t e) {
  if (!no_image(e)) return {};
  return "the application's kernels were not compiled for this GPU: add its architecture to the "
         "application's CUDA_ARCHITECTURES (nvcc -gencode)";
}

CuKernelImpl::CuKernelImpl(int device, const kernels::BuiltinCuda& k, const ArgLayout& layout,
                           std::uint32_t block)
    : device_(device), launch_(k.launch), persistent_(k.persistent), block_(block) {
  validate_layout(layout, SPOOL_RING_ARG_BYTES, k.args_size);
  desc_.name = k.name;
  desc_.variant = "wg=" + std::to_string(block);
  desc_.source_hash = kernels::builtin_cuda_source_hash();
  desc_.args = layout.args;
  desc_.arg_block_size = layout.block_size;
  desc_.has_persistent = k.persistent != nullptr;
  if (!desc_.has_persistent) desc_.persistent_unavailable_reason = "no persistent variant compiled";
  if (k.race_blocks != nullptr) desc_.race_workgroups.assign(k.race_blocks, k.race_blocks + k.race_block_count);
}

CuKernelImpl::CuKernelImpl(int device, const AppKernelDesc& app, backend::KernelDesc desc,
                           std::uint32_t block)
    : device_(device), app_(app), block_(block), desc_(std::move(desc)) {}

void CuKernelImpl::fail(cudaError_t e, const char* what, const char* file, int line) const {
  std::string call;
  std::string hint;
  if (app_) {
    call = std::string(what) + " of application kernel '" + desc_.name +
           "' (its thunk, in the application's CUDA runtime)";
    hint = app_image_hint(e);
  } else {
    call = std::string(what) + " of built-in kernel '" + desc_.name + "'";
  }
  throw_cuda(e, call.c_str(), file, line, hint);
}

void CuKernelImpl::launch(const backend::PackedItem& it, cudaStream_t stream) const {
  cudaError_t e = cudaSuccess;
  if (app_) {
    e = app_->launch(device_, it.grid, it.index, it.begin, it.args, block_, stream);
  } else {
    LaunchParams p(it);
    e = cudaLaunchKernel(launch_, dim3(blocks_for(it, block_)), dim3(block_), p.ptrs, 0, stream);
  }
  if (e != cudaSuccess) fail(e, "cudaLaunchKernel", __FILE__, __LINE__);
}

void CuKernelImpl::launch_persistent(std::uint32_t* ring, std::uint32_t* dctl, std::uint32_t blocks,
                                     cudaStream_t stream) const {
  cudaError_t e = cudaSuccess;
  if (app_) {
    e = app_->launch_persistent != nullptr ? app_->launch_persistent(device_, ring, dctl, blocks, block_, stream)
                                           : cudaErrorInvalidDeviceFunction;
  } else {
    void* params[2] = {&ring, &dctl};
    e = cudaLaunchKernel(persistent_, dim3(blocks), dim3(block_), params, 0, stream);
  }
  if (e != cudaSuccess) fail(e, "cudaLaunchKernel (persistent)", __FILE__, __LINE__);
}

int CuKernelImpl::persistent_occupancy() const {
  if (const int cached = occupancy_.load(std::memory_order_relaxed); cached >= 0) return cached;
  int per_sm = 0;
  cudaError_t e = cudaSuccess;
  if (app_) {
    e = app_->persistent_occupancy != nullptr ? app_->persistent_occupancy(device_, block_, &per_sm)
                                              : cudaErrorInvalidDeviceFunction;
  } else {
    e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, persistent_, static_cast<int>(block_), 0);
  }
  if (e != cudaSuccess) fail(e, "cudaOccupancyMaxActiveBlocksPerMultiprocessor", __FILE__, __LINE__);
  occupancy_.store(per_sm, std::memory_order_relaxed);
  return per_sm;
}

}  // namespace spool::cuda
