// The two device-side wrappers every Spool CUDA kernel is built from, for
// Spool's built-in kernels (kernels/cuda/wrap.cuh) and applications' own
// kernels (spool/cuda/app_kernel.cuh). CUDA C++17, compiled by nvcc.
//
// A Body is a type with
//   __device__ static void run(const Args& args, std::uint32_t i, std::uint32_t item);
// called once per index i in [0, grid) of a work item (`item`: the item's
// index within its batch). Bodies must not use __syncthreads() or shared
// memory: the same body runs one item per launch and inside the persistent
// queue loop, where a block strides over a range of the item's grid.
//
//   launch_item<Args, Body>(grid, item, base, args)
//       one thread per index i in [base, grid) (the `launches` and `recorded`
//       modes; base > 0 when the persistent queue re-runs the rest of an item
//       split into chunks)
//   persistent_loop<Args, Body>(ring, dctl)
//       a resident queue loop over the ring in mapped pinned host memory and
//       the device control block in device memory (the `persistent` mode;
//       layout and protocol: spool/backend/ring_abi.h; the claiming leader:
//       spool/cuda/ring_leader.hpp)
//
// The persistent loop never assumes its blocks are co-resident: blocks claim
// slots independently, and a gated slot (a sequential item, the first item
// of a batch) is claimed only once every earlier slot is done, so a block
// never waits inside a slot for another block.
#pragma once

#include <cuda/atomic>

#include <cstdint>
#include <cstring>

#include "spool/backend/ring_abi.h"
#include "spool/cuda/ring_leader.hpp"

namespace spool::cuda::wrap {

// Adapts a `__device__` function to the Body concept (built-in kernels).
template <class Args, void (*Fn)(const Args&, std::uint32_t, std::uint32_t)>
struct FnBody {
  __device__ __forceinline__ static void run(const Args& a, std::uint32_t i, std::uint32_t item) {
    Fn(a, i, item);
  }
};

// The leader's memory operations on the GPU: the ring is mapped host memory
// (system scope: loads and stores only, never a read-modify-write), the
// device control block device memory (device scope).
struct DeviceMem {
  using Sys = ::cuda::atomic_ref<std::uint32_t, ::cuda::thread_scope_system>;
  using Dev = ::cuda::atomic_ref<std::uint32_t, ::cuda::thread_scope_device>;
  __device__ __forceinline__ static std::uint32_t load_sys(std::uint32_t* p) {
    return Sys(*p).load(::cuda::memory_order_acquire);
  }
  __device__ __forceinline__ static std::uint32_t peek_sys(std::uint32_t* p) {
    return Sys(*p).load(::cuda::memory_order_relaxed);
  }
  __device__ __forceinline__ static void store_sys(std::uint32_t* p, std::uint32_t v) {
    Sys(*p).store(v, ::cuda::memory_order_release);
  }
  __device__ __forceinline__ static std::uint32_t load_dev(std::uint32_t* p) {
    return Dev(*p).load(::cuda::memory_order_acquire);
  }
  __device__ __forceinline__ static void store_dev(std::uint32_t* p, std::uint32_t v) {
    Dev(*p).store(v, ::cuda::memory_order_release);
  }
  __device__ __forceinline__ static bool cas_dev(std::uint32_t* p, std::uint32_t expected, std::uint32_t desired) {
    return Dev(*p).compare_exchange_strong(expected, desired, ::cuda::memory_order_acq_rel,
                                           ::cuda::memory_order_acquire);
  }
  __device__ __forceinline__ static void add_dev(std::uint32_t* p, std::uint32_t v) {
    Dev(*p).fetch_add(v, ::cuda::memory_order_relaxed);
  }
  __device__ __forceinline__ static void pause(std::uint32_t ns) { __nanosleep(ns); }
};

template <class Args, class Body>
__device__ __forceinline__ void launch_item(std::uint32_t grid, std::uint32_t item, std::uint32_t base,
                                            const Args& args) {
  const std::uint64_t i = std::uint64_t{base} + std::uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i < grid) Body::run(args, static_cast<std::uint32_t>(i), item);
}

template <class Args, class Body>
__device__ void persistent_loop(std::uint32_t* ring, std::uint32_t* dctl) {
  static_assert(sizeof(Args) <= SPOOL_RING_ARG_BYTES, "arguments do not fit a queue slot");
  __shared__ std::uint32_t s_run, s_seq;
  __shared__ std::uint32_t* s_slot_ptr;
  __shared__ alignas(16) std::uint32_t s_slot[SPOOL_RING_SLOT_WORDS];
  const bool leader = threadIdx.x == 0;
  ring::Leader<DeviceMem> lead;
  if (leader) {
    lead.init(ring, dctl, gridDim.x);
    lead.enter();
  }
  for (;;) {
    if (leader) {
      const ring::Claim c = lead.next();
      s_run = c.run ? 1u : 0u;
      s_seq = c.seq;
      s_slot_ptr = c.run ? lead.slot(c.seq) : nullptr;
    }
    __syncthreads();
    if (s_run == 0u) break;
    const std::uint32_t seq = s_seq;
    // The whole slot (header and arguments: one 128-byte line) in one
    // coalesced read by the first warp, into shared memory.
    for (std::uint32_t w = threadIdx.x; w < SPOOL_RING_SLOT_WORDS; w += blockDim.x) {
      s_slot[w] = DeviceMem::peek_sys(s_slot_ptr + w);
    }
    __syncthreads();
    Args args;
    memcpy(static_cast<void*>(&args), s_slot + SPOOL_RING_ARGS, sizeof(Args));
    const std::uint32_t begin = s_slot[SPOOL_RING_BEGIN];
    const std::uint32_t end = s_slot[SPOOL_RING_END];
    const std::uint32_t item = s_slot[SPOOL_RING_ITEM];
    const std::uint64_t n = end > begin ? end - begin : 0u;
    for (std::uint64_t k = threadIdx.x; k < n; k += blockDim.x) {
      Body::run(args, begin + static_cast<std::uint32_t>(k), item);
    }
    // Every write of the body, to device or mapped memory, is visible to the
    // host and to the blocks that run later slots before DONE says so.
    __threadfence_system();
    __syncthreads();
    if (leader) lead.finish(seq, SPOOL_RING_STATUS_OK);
  }
  if (leader) lead.leave();
}

}  // namespace spool::cuda::wrap
