// The built-in kernels' wrapper macro over spool/cuda/kernel_wrap.cuh (the
// device loops, shared with applications' kernels):
//
//   SPOOL_CUDA_KERNEL(name, Args, body) defines
//     extern "C" __global__ spool_cu_launch_<name>(grid, item, Args)
//         one thread per index i < grid (the `launches` and `recorded` modes)
//     extern "C" __global__ spool_cu_persistent_<name>(uint32_t* ring)
//         the persistent queue loop (the `persistent` mode)
#pragma once

#include "spool/cuda/kernel_wrap.cuh"
#include "spool_cuda_abi.hpp"

#define SPOOL_CUDA_KERNEL(name, Args, body)                                                     \
  extern "C" __global__ void spool_cu_launch_##name(std::uint32_t grid, std::uint32_t item,      \
                                                    Args args) {                                \
    ::spool::cuda::wrap::launch_item<Args, ::spool::cuda::wrap::FnBody<Args, body>>(grid, item,  \
                                                                                    args);      \
  }                                                                                              \
  extern "C" __global__ void spool_cu_persistent_##name(std::uint32_t* ring) {                  \
    ::spool::cuda::wrap::persistent_loop<Args, ::spool::cuda::wrap::FnBody<Args, body>>(ring);   \
  }
