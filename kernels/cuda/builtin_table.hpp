// Host view of the built-in CUDA kernels compiled by nvcc (builtin.cu).
// Plain C++ so the g++-compiled backend can include it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace spool::cuda::kernels {

struct BuiltinCuda {
  const char* name;
  const void* launch;      // __global__ spool_cu_launch_<name>(uint32_t grid, uint32_t item, uint32_t base, Args)
  const void* persistent;  // __global__ spool_cu_persistent_<name>(uint32_t* ring, uint32_t* dctl)
  std::uint32_t args_size; // sizeof(Args) as nvcc laid it out
  // Block sizes the autotuner races for this kernel (multiples of 32).
  const std::uint32_t* race_blocks;
  std::uint32_t race_block_count;
};

// All built-in kernels, in a fixed order.
const BuiltinCuda* builtin_cuda(std::size_t* count) noexcept;
// SHA-256 of the CUDA kernel sources (bodies, wrappers, ABI).
const char* builtin_cuda_source_hash() noexcept;

}  // namespace spool::cuda::kernels
