// The two device-side wrappers every Spool CUDA kernel is built from, for
// Spool's built-in kernels (kernels/cuda/wrap.cuh) and applications' own
// kernels (spool/cuda/app_kernel.cuh). CUDA C++17, compiled by nvcc.
//
// A Body is a type with
//   __device__ static void run(const Args& args, std::uint32_t i, std::uint32_t item);
// called once per index i in [0, grid) of a work item (`item`: the item's
// index within its batch). Bodies must not use __syncthreads() or shared
// memory: the same body runs one item per launch and inside the persistent
// queue loop, where a block strides over the item's grid.
//
//   launch_item<Args, Body>(grid, item, args)
//       one thread per index i < grid (the `launches` and `recorded` modes)
//   persistent_loop<Args, Body>(ring)
//       a resident queue loop over the ring in mapped pinned host memory
//       (the `persistent` mode; layout in spool/cuda/ring_abi.hpp)
//
// The persistent loop never assumes all blocks are co-resident: blocks claim
// items independently; a `sequential` item only waits for its predecessor,
// which was claimed earlier and so is already running.
#pragma once

#include <cuda/atomic>

#include <cstdint>

#include "spool/cuda/ring_abi.hpp"

namespace spool::cuda::wrap {

using Ref = ::cuda::atomic_ref<std::uint32_t, ::cuda::thread_scope_system>;
namespace r = ::spool::cuda::abi::ring;

// Adapts a `__device__` function to the Body concept (built-in kernels).
template <class Args, void (*Fn)(const Args&, std::uint32_t, std::uint32_t)>
struct FnBody {
  __device__ __forceinline__ static void run(const Args& a, std::uint32_t i, std::uint32_t item) {
    Fn(a, i, item);
  }
};

template <class Args, class Body>
__device__ __forceinline__ void launch_item(std::uint32_t grid, std::uint32_t item, const Args& args) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < grid) Body::run(args, i, item);
}

template <class Args, class Body>
__device__ void persistent_loop(std::uint32_t* ring) {
  static_assert(sizeof(Args) <= r::kArgsBytes, "arguments do not fit a queue slot");
  constexpr std::uint32_t kRun = 0, kRetry = 1, kExit = 2;
  __shared__ std::uint32_t s_state, s_seq, s_grid, s_flags, s_item;
  __shared__ alignas(16) std::uint32_t s_args[(sizeof(Args) + 3) / 4];
  const bool leader = threadIdx.x == 0;
  const std::uint32_t mask = Ref(ring[r::kCapacity]).load(::cuda::memory_order_acquire) - 1u;
  const std::uint32_t idle_limit = Ref(ring[r::kIdleLimit]).load(::cuda::memory_order_acquire);
  std::uint32_t* const slots = ring + r::kControlWords;
  std::uint32_t idle = 0, backoff = 32;
  if (leader) Ref(ring[r::kRunning]).fetch_add(1u, ::cuda::memory_order_relaxed);
  for (;;) {
    if (leader) {
      s_state = kRetry;
      Ref(ring[r::kHeartbeat]).fetch_add(1u, ::cuda::memory_order_relaxed);
      if (Ref(ring[r::kShutdown]).load(::cuda::memory_order_acquire) != 0u) {
        s_state = kExit;
      } else {
        std::uint32_t h = Ref(ring[r::kHead]).load(::cuda::memory_order_acquire);
        const std::uint32_t t = Ref(ring[r::kTail]).load(::cuda::memory_order_acquire);
        if (static_cast<int>(t - h) > 0) {
          if (Ref(ring[r::kHead]).compare_exchange_strong(h, h + 1u, ::cuda::memory_order_acq_rel)) {
            std::uint32_t* s = slots + (h & mask) * r::kSlotWords;
            std::uint32_t expect = r::kPublished;
            // The host revokes an unclaimed slot (watchdog) with a CAS on the
            // same word, so exactly one side wins.
            if (Ref(s[r::kStatus]).compare_exchange_strong(expect, r::kClaimed,
                                                           ::cuda::memory_order_acq_rel)) {
              s_seq = h;
              s_grid = Ref(s[r::kGrid]).load(::cuda::memory_order_relaxed);
              s_flags = Ref(s[r::kFlags]).load(::cuda::memory_order_relaxed);
              s_item = Ref(s[r::kItem]).load(::cuda::memory_order_relaxed);
              for (std::uint32_t w = 0; w < (sizeof(Args) + 3) / 4; ++w) {
                s_args[w] = Ref(s[r::kArgsWord + w]).load(::cuda::memory_order_relaxed);
              }
              s_state = kRun;
            }
          }
          idle = 0;
          backoff = 32;
        } else {
          ++idle;
          if (Ref(ring[r::kPark]).load(::cuda::memory_order_acquire) != 0u || idle >= idle_limit) {
            s_state = kExit;
          } else {
            __nanosleep(backoff);
            backoff = backoff < 4096 ? backoff * 2 : backoff;
          }
        }
      }
    }
    __syncthreads();
    const std::uint32_t state = s_state, seq = s_seq, grid = s_grid, flags = s_flags, item = s_item;
    if (state == kExit) break;
    if (state == kRetry) {
      __syncthreads();
      continue;
    }
    std::uint32_t* const s = slots + (seq & mask) * r::kSlotWords;
    if ((flags & r::kFlagSequential) != 0u && leader) {
      // Wait until the predecessor is done (or its slot was recycled/revoked).
      std::uint32_t* const p = slots + ((seq - 1u) & mask) * r::kSlotWords;
      std::uint32_t nap = 32;
      for (;;) {
        const std::uint32_t pst = Ref(p[r::kStatus]).load(::cuda::memory_order_acquire);
        const std::uint32_t pseq = Ref(p[r::kSeq]).load(::cuda::memory_order_acquire);
        if (pseq != seq - 1u || pst == r::kDoneState || pst == r::kEmpty || pst == r::kRevoked) break;
        if (Ref(ring[r::kShutdown]).load(::cuda::memory_order_acquire) != 0u) break;
        __nanosleep(nap);
        nap = nap < 2048 ? nap * 2 : nap;
      }
    }
    __syncthreads();
    Args args;
    memcpy(&args, s_args, sizeof(Args));
    for (std::uint32_t i = threadIdx.x; i < grid; i += blockDim.x) Body::run(args, i, item);
    __threadfence_system();
    __syncthreads();
    if (leader) {
      Ref(s[r::kStatus]).store(r::kDoneState, ::cuda::memory_order_release);
      Ref(ring[r::kDone]).fetch_add(1u, ::cuda::memory_order_release);
    }
  }
  if (leader) Ref(ring[r::kRunning]).fetch_sub(1u, ::cuda::memory_order_release);
}

}  // namespace spool::cuda::wrap
