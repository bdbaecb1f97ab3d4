// A kernel compiled at build time and embedded in a program: Spool's built-in
// GLSL kernels, and an application's own bodies compiled by the CMake
// function spool_add_kernels() (cmake/SpoolKernels.cmake). Load one with
// spool::Device::load().
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace spool {

struct EmbeddedKernel {
  std::string_view name;
  // "sha256:<hex>": SHA-256 of the full source as compiled (body, included
  // files, defines). The autotune store keys this kernel's rows by it.
  std::string_view source_hash;
  std::span<const std::uint32_t> launch_spirv;      // one item per dispatch
  std::span<const std::uint32_t> persistent_spirv;  // the queue-polling variant
  // Workgroup sizes the autotuner races (spool_add_kernels WORKGROUP_SIZES);
  // empty: the kernel does not race.
  std::span<const std::uint32_t> workgroup_sizes = {};
};

}  // namespace spool
