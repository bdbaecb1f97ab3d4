// Application-defined CUDA kernels for Spool, header-only. Include it in one
// of the application's .cu files (compiled by the application's nvcc, C++17):
//
//   struct ScaleArgs { const float* x; float* y; float a; std::uint32_t n; };
//   __device__ void scale(const ScaleArgs& a, std::uint32_t i, std::uint32_t item) {
//     if (i < a.n) a.y[i] = a.a * a.x[i];
//   }
//   SPOOL_CUDA_APP_KERNEL(scale_kernel, ScaleArgs, scale, "app.scale",
//                         SPOOL_CUDA_ARG(ScaleArgs, x), SPOOL_CUDA_ARG(ScaleArgs, y),
//                         SPOOL_CUDA_ARG(ScaleArgs, a), SPOOL_CUDA_ARG(ScaleArgs, n));
//
// defines, at namespace scope, the function
//   const spool::cuda::AppKernelDesc& scale_kernel() noexcept;
// (external linkage: declare it in a C++20 file and pass it to
// spool::cuda::load_kernel, spool/cuda/interop.hpp). Behind it:
//   * a per-item __global__ kernel (one thread per index i in [base, grid)) and, when
//     sizeof(Args) fits a queue slot (96 bytes), a persistent queue kernel,
//     both from the same body (spool/cuda/kernel_wrap.cuh);
//   * host thunks compiled HERE, in the application's translation unit, that
//     launch those kernels through the application's CUDA runtime (Spool
//     calls them; see spool/cuda/app_kernel_desc.hpp for why);
//   * the declared argument list, checked at compile time against the struct:
//     every member declared exactly once, in order, each a pointer (buffer),
//     std::uint32_t, std::int32_t or float; offsets and sizes are taken from
//     offsetof/sizeof, so they cannot disagree with the struct.
//
// The body's contract is the built-ins': called once per index i in
// [0, grid) of an item (a launch may cover [base, grid) of it, a persistent
// slot a chunk [begin, end)), `item` is the item's index in its batch; no
// __syncthreads(), no shared memory. Args must be a plain aggregate with at least one member.
#pragma once

#if !defined(__CUDACC__)
#error "spool/cuda/app_kernel.cuh defines CUDA kernels: include it from a .cu file compiled by nvcc"
#endif

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "spool/cuda/app_kernel_desc.hpp"
#include "spool/backend/ring_abi.h"
#include "spool/cuda/kernel_wrap.cuh"

namespace spool::cuda::app {

// Kernel parameters are (uint32 grid, uint32 item, uint32 base, Args): Args must leave room
// in the 4 KiB parameter space every supported GPU has.
inline constexpr std::size_t kMaxArgsBytes = 4096 - 16;

// ---- argument kinds from member types ----

template <class T>
struct ArgTraits {
  static constexpr bool supported = false;
  static constexpr AppArgKind kind = AppArgKind::buffer;  // unused: kind_of asserts first
};
template <class T>
struct ArgTraits<T*> {
  static constexpr bool supported = !std::is_function_v<T>;
  static constexpr AppArgKind kind = AppArgKind::buffer;
};
template <>
struct ArgTraits<std::uint32_t> {
  static constexpr bool supported = true;
  static constexpr AppArgKind kind = AppArgKind::u32;
};
template <>
struct ArgTraits<std::int32_t> {
  static constexpr bool supported = true;
  static constexpr AppArgKind kind = AppArgKind::i32;
};
template <>
struct ArgTraits<float> {
  static constexpr bool supported = true;
  static constexpr AppArgKind kind = AppArgKind::f32;
};

template <class Member>
constexpr AppArgKind kind_of() {
  using T = std::remove_cv_t<Member>;
  static_assert(ArgTraits<T>::supported,
                "SPOOL_CUDA_ARG: an argument member must be a pointer to device memory (a buffer), "
                "std::uint32_t, std::int32_t or float");
  return ArgTraits<T>::kind;
}

// ---- compile-time checks of the declaration against the struct ----

namespace detail {
struct AnyMember {
  template <class T>
  constexpr operator T() const noexcept;  // unevaluated contexts only
};
template <class T, class Seq, class = void>
struct BraceInitializable : std::false_type {};
template <class T, std::size_t... I>
struct BraceInitializable<T, std::index_sequence<I...>,
                          std::void_t<decltype(T{(static_cast<void>(I), AnyMember{})...})>>
    : std::true_type {};
}  // namespace detail

// The number of members of an aggregate of scalars and pointers: the largest
// N for which T{x1, ..., xN} is well-formed (counted up to kMaxMembers).
inline constexpr std::size_t kMaxMembers = 64;
template <class T, std::size_t N = kMaxMembers>
constexpr std::size_t member_count() {
  if constexpr (N == 0) {
    return 0;
  } else if constexpr (detail::BraceInitializable<T, std::make_index_sequence<N>>::value) {
    return N;
  } else {
    return member_count<T, N - 1>();
  }
}

// A declared argument of the argument struct Args (SPOOL_CUDA_ARG): typed by
// the struct, so a member of another struct does not compile.
template <class T>
inline constexpr bool kAlwaysFalse = false;

template <class Args>
struct ArgOf {
  constexpr explicit ArgOf(AppArg a) : arg(a) {}
  template <class Other>
  constexpr ArgOf(const ArgOf<Other>& o) : arg(o.arg) {
    static_assert(kAlwaysFalse<Other>,
                  "SPOOL_CUDA_ARG names a member of another struct than the kernel's argument struct");
  }
  AppArg arg;
};

template <class Args, std::size_t N>
constexpr bool offsets_distinct(const ArgOf<Args> (&a)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (a[i].arg.offset == a[j].arg.offset) return false;
    }
  }
  return true;
}

template <class Args, std::size_t N>
constexpr bool offsets_ascending(const ArgOf<Args> (&a)[N]) {
  for (std::size_t i = 1; i < N; ++i) {
    if (a[i].arg.offset <= a[i - 1].arg.offset) return false;
  }
  return true;
}

// The declared arguments as the descriptor's plain AppArg array.
template <class Tag, class Seq = std::make_index_sequence<sizeof(Tag::args) / sizeof(Tag::args[0])>>
struct ArgTable;
template <class Tag, std::size_t... I>
struct ArgTable<Tag, std::index_sequence<I...>> {
  static constexpr AppArg value[] = {Tag::args[I].arg...};
};

// ---- host thunks: run in the application's CUDA runtime ----

// Makes `device` current for the thunk and restores the caller's device.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    int current = -1;
    error_ = cudaGetDevice(&current);
    if (error_ == cudaSuccess && current != device) {
      error_ = cudaSetDevice(device);
      if (error_ == cudaSuccess) previous_ = current;
    }
  }
  ~DeviceScope() {
    if (previous_ >= 0) static_cast<void>(cudaSetDevice(previous_));
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  cudaError_t error() const noexcept { return error_; }

 private:
  cudaError_t error_ = cudaSuccess;
  int previous_ = -1;
};

// A failed call leaves its code as the application runtime's last error;
// clear it so the application's own cudaGetLastError() checks are not
// blamed for Spool's launch (Spool reports it as a spool::Error).
inline cudaError_t reported(cudaError_t e) noexcept {
  if (e != cudaSuccess) static_cast<void>(cudaGetLastError());
  return e;
}

template <class Tag>
__global__ void launch_kernel(std::uint32_t grid, std::uint32_t item, std::uint32_t base, typename Tag::Args args) {
  ::spool::cuda::wrap::launch_item<typename Tag::Args, Tag>(grid, item, base, args);
}

template <class Tag>
__global__ void persistent_kernel(std::uint32_t* ring, std::uint32_t* dctl) {
  ::spool::cuda::wrap::persistent_loop<typename Tag::Args, Tag>(ring, dctl);
}

template <class Tag>
inline constexpr bool fits_slot = sizeof(typename Tag::Args) <= SPOOL_RING_ARG_BYTES;

template <class Tag>
cudaError_t launch_thunk(int device, std::uint32_t grid, std::uint32_t item, std::uint32_t base,
                         const void* packed, std::uint32_t block, cudaStream_t stream) {
  using Args = typename Tag::Args;
  if (packed == nullptr || block == 0 || base >= grid) return cudaErrorInvalidValue;
  DeviceScope scope(device);
  if (scope.error() != cudaSuccess) return reported(scope.error());
  Args args;
  std::memcpy(static_cast<void*>(&args), packed, sizeof(Args));
  void* params[4] = {&grid, &item, &base, &args};
  const std::uint32_t extent = grid - base;
  const dim3 blocks(extent / block + (extent % block != 0 ? 1u : 0u));
  return reported(cudaLaunchKernel(reinterpret_cast<const void*>(&launch_kernel<Tag>), blocks,
                                   dim3(block), params, 0, stream));
}

template <class Tag>
cudaError_t persistent_thunk(int device, std::uint32_t* ring, std::uint32_t* dctl, std::uint32_t blocks,
                             std::uint32_t block, cudaStream_t stream) {
  DeviceScope scope(device);
  if (scope.error() != cudaSuccess) return reported(scope.error());
  void* params[2] = {&ring, &dctl};
  return reported(cudaLaunchKernel(reinterpret_cast<const void*>(&persistent_kernel<Tag>), dim3(blocks),
                                   dim3(block), params, 0, stream));
}

template <class Tag>
cudaError_t occupancy_thunk(int device, std::uint32_t block, int* blocks_per_sm) {
  DeviceScope scope(device);
  if (scope.error() != cudaSuccess) return reported(scope.error());
  return reported(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      blocks_per_sm, reinterpret_cast<const void*>(&persistent_kernel<Tag>), static_cast<int>(block), 0));
}

template <class Tag>
cudaError_t probe_thunk(int device, int* launch_max_threads, int* persistent_max_threads) {
  DeviceScope scope(device);
  if (scope.error() != cudaSuccess) return reported(scope.error());
  cudaFuncAttributes a{};
  cudaError_t e = cudaFuncGetAttributes(&a, reinterpret_cast<const void*>(&launch_kernel<Tag>));
  if (e != cudaSuccess) return reported(e);
  *launch_max_threads = a.maxThreadsPerBlock;
  *persistent_max_threads = 0;
  if constexpr (fits_slot<Tag>) {
    e = cudaFuncGetAttributes(&a, reinterpret_cast<const void*>(&persistent_kernel<Tag>));
    if (e != cudaSuccess) return reported(e);
    *persistent_max_threads = a.maxThreadsPerBlock;
  }
  return cudaSuccess;
}

// ---- the descriptor ----

template <class Tag>
constexpr AppKernelDesc describe() {
  using Args = typename Tag::Args;
  constexpr std::size_t declared = sizeof(Tag::args) / sizeof(Tag::args[0]);
  static_assert(Tag::name != nullptr && Tag::name[0] != '\0', "SPOOL_CUDA_APP_KERNEL: the kernel name is empty");
  static_assert(std::is_standard_layout_v<Args>,
                "SPOOL_CUDA_APP_KERNEL: the argument struct must be standard-layout (plain data members)");
  static_assert(std::is_trivially_copyable_v<Args> && std::is_default_constructible_v<Args>,
                "SPOOL_CUDA_APP_KERNEL: the argument struct must be trivially copyable and default-constructible");
  static_assert(std::is_aggregate_v<Args>,
                "SPOOL_CUDA_APP_KERNEL: the argument struct must be an aggregate (no constructors)");
  static_assert(member_count<Args>() < kMaxMembers,
                "SPOOL_CUDA_APP_KERNEL: an argument struct has at most 63 members");
  static_assert(declared == member_count<Args>(),
                "SPOOL_CUDA_APP_KERNEL: declare every member of the argument struct with SPOOL_CUDA_ARG, "
                "each exactly once");
  static_assert(offsets_distinct(Tag::args),
                "SPOOL_CUDA_APP_KERNEL: a member is declared twice; declare each member exactly once");
  static_assert(offsets_ascending(Tag::args),
                "SPOOL_CUDA_APP_KERNEL: declare the members in the order the struct declares them");
  static_assert(sizeof(Args) <= kMaxArgsBytes,
                "SPOOL_CUDA_APP_KERNEL: the argument struct does not fit the kernel parameter space");
  AppKernelDesc d{};
  d.abi_version = kAppKernelAbiVersion;
  d.name = Tag::name;
  d.args = ArgTable<Tag>::value;
  d.arg_count = static_cast<std::uint32_t>(declared);
  d.args_size = static_cast<std::uint32_t>(sizeof(Args));
  d.args_align = static_cast<std::uint32_t>(alignof(Args));
  d.launch = &launch_thunk<Tag>;
  d.probe = &probe_thunk<Tag>;
  if constexpr (fits_slot<Tag>) {
    d.launch_persistent = &persistent_thunk<Tag>;
    d.persistent_occupancy = &occupancy_thunk<Tag>;
  } else {
    d.launch_persistent = nullptr;
    d.persistent_occupancy = nullptr;
  }
  return d;
}

template <class Tag>
struct Descriptor {
  static constexpr AppKernelDesc value = describe<Tag>();
};

}  // namespace spool::cuda::app

// One declared argument: SPOOL_CUDA_ARG(Args, member). Kind, offset and size
// come from the member itself; Args must be the kernel's argument struct.
#define SPOOL_CUDA_ARG(ArgsType, member)                                                         \
  ::spool::cuda::app::ArgOf<ArgsType>(::spool::cuda::AppArg{                                     \
      #member, ::spool::cuda::app::kind_of<decltype(ArgsType::member)>(),                        \
      static_cast<std::uint32_t>(offsetof(ArgsType, member)),                                    \
      static_cast<std::uint32_t>(sizeof(ArgsType::member))})

// SPOOL_CUDA_APP_KERNEL(fn, Args, body, "name", SPOOL_CUDA_ARG(Args, m1), ...);
// at namespace scope, once per kernel, in one .cu file. Defines
// `const spool::cuda::AppKernelDesc& fn() noexcept`.
#define SPOOL_CUDA_APP_KERNEL(fn, ArgsType, body, kernel_name, ...)                              \
  struct spool_cuda_app_kernel_##fn {                                                            \
    using Args = ArgsType;                                                                       \
    static constexpr const char* name = kernel_name;                                             \
    static constexpr ::spool::cuda::app::ArgOf<ArgsType> args[] = {__VA_ARGS__};                 \
    __device__ __forceinline__ static void run(const ArgsType& a, std::uint32_t i,               \
                                               std::uint32_t item) {                             \
      body(a, i, item);                                                                          \
    }                                                                                            \
  };                                                                                             \
  const ::spool::cuda::AppKernelDesc& fn() noexcept {                                            \
    return ::spool::cuda::app::Descriptor<spool_cuda_app_kernel_##fn>::value;                    \
  }                                                                                              \
  static_assert(true, "SPOOL_CUDA_APP_KERNEL")
