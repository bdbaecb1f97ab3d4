// The built-in kernel bodies, written once as CUDA C++ __device__ functions
// (the same bodies as kernels/glsl/*.glsl). A body is called once per index i
// in [0, grid) of a work item; `item` is the item's index within its batch.
// Bodies must not use __syncthreads() or shared memory: the same body runs
// one item per launch and inside the persistent queue loop, where a block
// strides over the item's grid.
#pragma once

#include <cuda/atomic>

#include "spool_cuda_abi.hpp"

namespace spool::cuda::bodies {

using namespace spool::cuda::abi;

// empty: does nothing; used to calibrate launch overheads.
__device__ inline void empty(const EmptyArgs&, std::uint32_t, std::uint32_t) {}

// saxpy: y[i] = a * x[i] + y[i] for i < n.
__device__ inline void saxpy(const SaxpyArgs& a, std::uint32_t i, std::uint32_t) {
  if (i < a.n) a.y[i] = a.a * a.x[i] + a.y[i];
}

// reduce_step: out[i] = in[2i] + in[2i+1] (in[2i+1] taken as 0 past n).
__device__ inline void reduce_step(const ReduceStepArgs& a, std::uint32_t i, std::uint32_t) {
  const std::uint32_t k = 2u * i;
  if (k >= a.n) return;
  float s = a.in_v[k];
  if (k + 1u < a.n) s += a.in_v[k + 1u];
  a.out_v[i] = s;
}

// stencil_step: one Jacobi step of 1-D heat diffusion with fixed ends.
__device__ inline void stencil_step(const StencilStepArgs& a, std::uint32_t i, std::uint32_t) {
  if (i >= a.n) return;
  if (i == 0u || i + 1u >= a.n) {
    a.dst[i] = a.src[i];
    return;
  }
  const float c = a.src[i];
  a.dst[i] = c + a.alpha * (a.src[i - 1u] - 2.0f * c + a.src[i + 1u]);
}

// tally: counts[item_id + i] += 1 atomically (exactly-once tests).
__device__ inline void tally(const TallyArgs& a, std::uint32_t i, std::uint32_t) {
  ::cuda::atomic_ref<std::uint32_t, ::cuda::thread_scope_system>(a.counts[a.item_id + i])
      .fetch_add(1u, ::cuda::memory_order_relaxed);
}

// spin: marks[2 item_id] += 1, spins while gate[0] != 0 (at most `limit`
// polls), then marks[2 item_id + 1] += 1. Injects a stalled item for the
// watchdog tests; gate/marks are usually mapped host memory.
__device__ inline void spin(const SpinArgs& a, std::uint32_t i, std::uint32_t) {
  if (i != 0u) return;
  using ref = ::cuda::atomic_ref<std::uint32_t, ::cuda::thread_scope_system>;
  ref(a.marks[2u * a.item_id]).fetch_add(1u, ::cuda::memory_order_acq_rel);
  for (std::uint32_t k = 0; k < a.limit; ++k) {
    if (ref(a.gate[0]).load(::cuda::memory_order_acquire) == 0u) break;
    __nanosleep(1000);
  }
  ref(a.marks[2u * a.item_id + 1u]).fetch_add(1u, ::cuda::memory_order_acq_rel);
}

}  // namespace spool::cuda::bodies
