// The application's side of cuda_interop, as an application that already has
// CUDA code would have it: its own kernels (launched by the application on
// its own stream) and one body it hands to Spool (app_kernels.cu). Declared
// here for the C++20 part of the application (main.cpp); nothing in this
// header needs nvcc.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "spool/cuda/app_kernel_desc.hpp"

namespace app {

// The body handed to Spool: y[i] = a * x[i] + y[i] for i < n.
struct AxpyArgs {
  const float* x;
  float* y;
  float a;
  std::uint32_t n;
};
const spool::cuda::AppKernelDesc& axpy_kernel() noexcept;  // SPOOL_CUDA_APP_KERNEL

// The application's own kernels, launched with the application's runtime on
// `stream`. fill_ramp: p[i] = base + i, after each thread has spun for
// `delay_cycles` clock cycles (a slow producer: work that is not ordered
// after it reads stale data). add_into: dst[i] += src[i].
cudaError_t fill_ramp(float* p, float base, std::uint32_t n, std::uint32_t delay_cycles, cudaStream_t stream);
cudaError_t add_into(float* dst, const float* src, std::uint32_t n, cudaStream_t stream);

}  // namespace app
