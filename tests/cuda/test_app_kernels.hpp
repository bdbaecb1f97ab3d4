// Application kernels the CUDA tests define (test_app_kernels.cu, nvcc C++17),
// declared for the C++20 tests. The structs are shared so the tests can
// compare the descriptors' layouts with g++'s offsetof/sizeof.
#pragma once

#include <cstdint>

#include "spool/cuda/app_kernel_desc.hpp"

namespace test_app {

// Mixed kinds and padding: offsets 0, 8, 16, 20; 24 bytes.
struct MixedArgs {
  std::int32_t k;
  float* p;
  std::uint32_t m;
  float f;
};
// p[i] = k + f * m + item, for i < m.
const spool::cuda::AppKernelDesc& mixed_kernel() noexcept;

// Exactly a queue slot's 96 bytes: has a persistent variant.
struct SlotArgs {
  float* p0; float* p1; float* p2; float* p3; float* p4; float* p5;
  float* p6; float* p7; float* p8; float* p9; float* p10;
  std::uint32_t n;
  float v;
};
// p0[i] = v for i < n.
const spool::cuda::AppKernelDesc& slot_kernel() noexcept;

// 104 bytes: too large for a queue slot, launches and recorded only.
struct WideArgs {
  float* p0; float* p1; float* p2; float* p3; float* p4; float* p5;
  float* p6; float* p7; float* p8; float* p9; float* p10; float* p11;
  std::uint32_t n;
  float v;
};
// p0[i] += v for i < n.
const spool::cuda::AppKernelDesc& wide_kernel() noexcept;

// out[item * n + i] = item + 1 for i < n: shows each item ran once, with its index.
struct TagArgs {
  std::uint32_t* out;
  std::uint32_t n;
};
const spool::cuda::AppKernelDesc& tag_kernel() noexcept;

}  // namespace test_app
