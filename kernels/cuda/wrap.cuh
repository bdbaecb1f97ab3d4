// The built-in kernels' wrapper macro over spool/cuda/kernel_wrap.cuh (the
// device loops, shared with applications' kernels):
//
//   SPOOL_CUDA_KERNEL(name, Args, body) defines
//     extern "C" __global__ spool_cu_launch_<name>(grid, item, base, Args)
//         one thread per index i in [base, grid) (the `launches` and
//         `recorded` modes)
//     extern "C" __global__ spool_cu_persistent_<name>(uint32_t* ring, uint32_t* dctl)
//         the persistent queue loop (the `persistent` mode)
#pragma once

#include "spool/cuda/kernel_wrap.cuh"
#include "spool_cuda_abi.hpp"

#define SPOOL_CUDA_KERNEL(name, Args, body)                                                         \
  extern "C" __global__ void spool_cu_launch_##name(std::uint32_t grid, std::uint32_t item,          \
                                                    std::uint32_t base, Args args) {                \
    ::spool::cuda::wrap::launch_item<Args, ::spool::cuda::wrap::FnBody<Args, body>>(grid, item, base, \
                                                                                    args);          \
  }                                                                                                  \
  extern "C" __global__ void spool_cu_persistent_##name(std::uint32_t* ring, std::uint32_t* dctl) { \
    ::spool::cuda::wrap::persistent_loop<Args, ::spool::cuda::wrap::FnBody<Args, body>>(ring, dctl); \
  }
