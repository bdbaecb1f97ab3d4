// Spool CUDA kernel ABI, shared by the device code (kernels/cuda/*.cu*) and
// the host backend (runtime/backends/cuda). Plain C++: no CUDA headers.
//
// * Argument structs: each built-in kernel's arguments, passed by value to
//   the per-item kernel and copied into a queue slot for the persistent one.
//   Buffers are device pointers (8 bytes), scalars 4 bytes, the same layout
//   the GLSL kernels use for their push constants.
// * The persistent work-queue ring: defined once for every backend in
//   spool/backend/ring_abi.h (applications' kernels use it too).
#pragma once

#include <cstdint>

#include "spool/backend/ring_abi.h"

namespace spool::cuda::abi {

struct EmptyArgs { std::uint32_t unused; };
struct SaxpyArgs { float* x; float* y; float a; std::uint32_t n; };
struct ReduceStepArgs { float* in_v; float* out_v; std::uint32_t n; };
struct StencilStepArgs { float* src; float* dst; float alpha; std::uint32_t n; };
struct TallyArgs { std::uint32_t* counts; std::uint32_t item_id; };
struct SpinArgs { std::uint32_t* gate; std::uint32_t* marks; std::uint32_t item_id; std::uint32_t limit; };

}  // namespace spool::cuda::abi
