// The descriptor of an application-defined CUDA kernel: the plain data that
// crosses from the application's nvcc-compiled translation unit (where
// spool/cuda/app_kernel.cuh builds it) to Spool (spool::cuda::load_kernel in
// spool/cuda/interop.hpp). C++17, no Spool C++20 headers, so both nvcc (C++17)
// and the application's host compiler (C++20) include it.
//
// Why function pointers: the application's kernels are registered in the
// application's CUDA runtime instance. Spool links the CUDA runtime
// statically too, and where the two are separate instances (the application
// links cudart dynamically, or Spool sits in another shared object) a kernel
// host stub of one cannot be launched through the other. So the descriptor
// carries launcher thunks compiled in the application's translation unit,
// which launch with the application's runtime; Spool only passes streams,
// device pointers and argument bytes (streams, events and device memory are
// driver objects, valid in both instances).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace spool::cuda {

// Bumped whenever AppKernelDesc or the thunks' contract changes; load_kernel
// rejects a descriptor built against another version.
// 2: the launch thunk takes a base index, the persistent thunk the device
// control block (one ring ABI for every backend, spool/backend/ring_abi.h).
inline constexpr std::uint32_t kAppKernelAbiVersion = 2;

// Same values as spool::ArgKind (spool/args.hpp).
enum class AppArgKind : std::uint8_t { buffer = 0, u32 = 1, i32 = 2, f32 = 3 };

// One member of the kernel's argument struct.
struct AppArg {
  const char* name;      // the member's name
  AppArgKind kind;       // buffer: any pointer (8 bytes); u32/i32/f32: 4 bytes
  std::uint32_t offset;  // offsetof(Args, member)
  std::uint32_t size;    // sizeof(member)
};

// Launches indices [base, grid) of item `item`: ceil((grid - base) / block)
// blocks of `block` threads on `stream`, on CUDA device `device`, with the
// packed argument block `args` (sizeof(Args) bytes, the layout of `args`
// below). base is 0 except when the persistent queue re-runs the rest of an
// item it split into chunks; base >= grid is cudaErrorInvalidValue.
using AppLaunchFn = cudaError_t (*)(int device, std::uint32_t grid, std::uint32_t item, std::uint32_t base,
                                    const void* args, std::uint32_t block, cudaStream_t stream);
// Launches the persistent queue kernel over `ring` (device address of the
// mapped ring, spool/backend/ring_abi.h) and `dctl` (its device control
// block in device memory, spool/cuda/ring_leader.hpp): `blocks` blocks of
// `block` threads.
using AppPersistentFn = cudaError_t (*)(int device, std::uint32_t* ring, std::uint32_t* dctl,
                                        std::uint32_t blocks, std::uint32_t block, cudaStream_t stream);
// Resident blocks per SM of the persistent kernel at `block` threads
// (cudaOccupancyMaxActiveBlocksPerMultiprocessor).
using AppOccupancyFn = cudaError_t (*)(int device, std::uint32_t block, int* blocks_per_sm);
// cudaFuncGetAttributes(...).maxThreadsPerBlock of the per-item kernel and of
// the persistent kernel (0 when there is none). Fails with
// cudaErrorNoKernelImageForDevice / cudaErrorInvalidDeviceFunction when the
// application was not compiled for the device's architecture.
using AppProbeFn = cudaError_t (*)(int device, int* launch_max_threads, int* persistent_max_threads);

struct AppKernelDesc {
  std::uint32_t abi_version;  // kAppKernelAbiVersion of the header that built it
  const char* name;           // the kernel's name in verdicts and telemetry
  const AppArg* args;         // in declaration (= offset) order
  std::uint32_t arg_count;
  std::uint32_t args_size;    // sizeof(Args)
  std::uint32_t args_align;   // alignof(Args)
  AppLaunchFn launch;
  AppProbeFn probe;
  // Null when Args do not fit the argument area of a queue slot (96 bytes):
  // the kernel then has no persistent variant and says why.
  AppPersistentFn launch_persistent;
  AppOccupancyFn persistent_occupancy;
};

}  // namespace spool::cuda
