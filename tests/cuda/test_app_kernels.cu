// The tests' application kernels (see test_app_kernels.hpp), defined with
// spool/cuda/app_kernel.cuh exactly as an application would.
#include <spool/cuda/app_kernel.cuh>

#include "test_app_kernels.hpp"

namespace test_app {

namespace {

__device__ void mixed(const MixedArgs& a, std::uint32_t i, std::uint32_t item) {
  if (i < a.m) a.p[i] = static_cast<float>(a.k) + a.f * static_cast<float>(a.m) + static_cast<float>(item);
}
__device__ void slot(const SlotArgs& a, std::uint32_t i, std::uint32_t) {
  if (i < a.n) a.p0[i] = a.v;
}
__device__ void wide(const WideArgs& a, std::uint32_t i, std::uint32_t) {
  if (i < a.n) a.p0[i] += a.v;
}
__device__ void tag(const TagArgs& a, std::uint32_t i, std::uint32_t item) {
  if (i < a.n) a.out[item * a.n + i] = item + 1u;
}

}  // namespace

SPOOL_CUDA_APP_KERNEL(mixed_kernel, MixedArgs, mixed, "test.mixed",
                      SPOOL_CUDA_ARG(MixedArgs, k), SPOOL_CUDA_ARG(MixedArgs, p),
                      SPOOL_CUDA_ARG(MixedArgs, m), SPOOL_CUDA_ARG(MixedArgs, f));

SPOOL_CUDA_APP_KERNEL(slot_kernel, SlotArgs, slot, "test.slot",
                      SPOOL_CUDA_ARG(SlotArgs, p0), SPOOL_CUDA_ARG(SlotArgs, p1), SPOOL_CUDA_ARG(SlotArgs, p2),
                      SPOOL_CUDA_ARG(SlotArgs, p3), SPOOL_CUDA_ARG(SlotArgs, p4), SPOOL_CUDA_ARG(SlotArgs, p5),
                      SPOOL_CUDA_ARG(SlotArgs, p6), SPOOL_CUDA_ARG(SlotArgs, p7), SPOOL_CUDA_ARG(SlotArgs, p8),
                      SPOOL_CUDA_ARG(SlotArgs, p9), SPOOL_CUDA_ARG(SlotArgs, p10), SPOOL_CUDA_ARG(SlotArgs, n),
                      SPOOL_CUDA_ARG(SlotArgs, v));

SPOOL_CUDA_APP_KERNEL(wide_kernel, WideArgs, wide, "test.wide",
                      SPOOL_CUDA_ARG(WideArgs, p0), SPOOL_CUDA_ARG(WideArgs, p1), SPOOL_CUDA_ARG(WideArgs, p2),
                      SPOOL_CUDA_ARG(WideArgs, p3), SPOOL_CUDA_ARG(WideArgs, p4), SPOOL_CUDA_ARG(WideArgs, p5),
                      SPOOL_CUDA_ARG(WideArgs, p6), SPOOL_CUDA_ARG(WideArgs, p7), SPOOL_CUDA_ARG(WideArgs, p8),
                      SPOOL_CUDA_ARG(WideArgs, p9), SPOOL_CUDA_ARG(WideArgs, p10), SPOOL_CUDA_ARG(WideArgs, p11),
                      SPOOL_CUDA_ARG(WideArgs, n), SPOOL_CUDA_ARG(WideArgs, v));

SPOOL_CUDA_APP_KERNEL(tag_kernel, TagArgs, tag, "test.tag",
                      SPOOL_CUDA_ARG(TagArgs, out), SPOOL_CUDA_ARG(TagArgs, n));

}  // namespace test_app
