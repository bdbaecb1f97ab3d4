// The application's CUDA code (nvcc, C++17): its own kernels, and the body it
// hands to Spool, turned by SPOOL_CUDA_APP_KERNEL into a per-item kernel, a
// persistent queue kernel and the launch thunks Spool calls.
#include <spool/cuda/app_kernel.cuh>

#include "app.hpp"

namespace app {

namespace {

__device__ void axpy(const AxpyArgs& a, std::uint32_t i, std::uint32_t /*item*/) {
  if (i < a.n) a.y[i] = a.a * a.x[i] + a.y[i];
}

__global__ void fill_ramp_kernel(float* p, float base, std::uint32_t n, std::uint32_t delay_cycles) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long long t0 = clock64();
  while (clock64() - t0 < static_cast<long long>(delay_cycles)) {
  }
  p[i] = base + static_cast<float>(i);
}

__global__ void add_into_kernel(float* dst, const float* src, std::uint32_t n) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dst[i] += src[i];
}

constexpr std::uint32_t kBlock = 256;

dim3 blocks(std::uint32_t n) { return dim3((n + kBlock - 1) / kBlock); }

}  // namespace

SPOOL_CUDA_APP_KERNEL(axpy_kernel, AxpyArgs, axpy, "app.axpy",
                      SPOOL_CUDA_ARG(AxpyArgs, x), SPOOL_CUDA_ARG(AxpyArgs, y),
                      SPOOL_CUDA_ARG(AxpyArgs, a), SPOOL_CUDA_ARG(AxpyArgs, n));

cudaError_t fill_ramp(float* p, float base, std::uint32_t n, std::uint32_t delay_cycles, cudaStream_t stream) {
  fill_ramp_kernel<<<blocks(n), kBlock, 0, stream>>>(p, base, n, delay_cycles);
  return cudaGetLastError();
}

cudaError_t add_into(float* dst, const float* src, std::uint32_t n, cudaStream_t stream) {
  add_into_kernel<<<blocks(n), kBlock, 0, stream>>>(dst, src, n);
  return cudaGetLastError();
}

}  // namespace app
