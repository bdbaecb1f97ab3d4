// The built-in CUDA kernels: each body of bodies.cuh as a per-item kernel
// and a persistent queue-loop kernel, plus the host-side table the backend
// looks them up in (kernel function pointers for cudaLaunchKernel).
#include "builtin_table.hpp"
#include "bodies.cuh"
#include "wrap.cuh"

using namespace spool::cuda::abi;
namespace b = spool::cuda::bodies;

SPOOL_CUDA_KERNEL(empty, EmptyArgs, b::empty)
SPOOL_CUDA_KERNEL(saxpy, SaxpyArgs, b::saxpy)
SPOOL_CUDA_KERNEL(reduce_step, ReduceStepArgs, b::reduce_step)
SPOOL_CUDA_KERNEL(stencil_step, StencilStepArgs, b::stencil_step)
SPOOL_CUDA_KERNEL(tally, TallyArgs, b::tally)
SPOOL_CUDA_KERNEL(spin, SpinArgs, b::spin)

#ifndef SPOOL_CUDA_SOURCE_HASH
#define SPOOL_CUDA_SOURCE_HASH "unknown"
#endif

namespace spool::cuda::kernels {

namespace {
// The block sizes every built-in races against the default (64 threads):
// one warp, and the sizes that trade occupancy for fewer blocks.
constexpr std::uint32_t kRaceBlocks[] = {32, 128, 256};
#define SPOOL_ENTRY(name, Args)                                                                   \
  BuiltinCuda{#name, reinterpret_cast<const void*>(&spool_cu_launch_##name),                     \
              reinterpret_cast<const void*>(&spool_cu_persistent_##name),                        \
              static_cast<std::uint32_t>(sizeof(Args)), kRaceBlocks,                             \
              static_cast<std::uint32_t>(sizeof kRaceBlocks / sizeof kRaceBlocks[0])}
const BuiltinCuda kTable[] = {
    SPOOL_ENTRY(empty, EmptyArgs),
    SPOOL_ENTRY(saxpy, SaxpyArgs),
    SPOOL_ENTRY(reduce_step, ReduceStepArgs),
    SPOOL_ENTRY(stencil_step, StencilStepArgs),
    SPOOL_ENTRY(tally, TallyArgs),
    SPOOL_ENTRY(spin, SpinArgs),
};
#undef SPOOL_ENTRY
}  // namespace

const BuiltinCuda* builtin_cuda(std::size_t* count) noexcept {
  *count = sizeof kTable / sizeof kTable[0];
  return kTable;
}

const char* builtin_cuda_source_hash() noexcept { return SPOOL_CUDA_SOURCE_HASH; }

}  // namespace spool::cuda::kernels
