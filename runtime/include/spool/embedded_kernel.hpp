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
  std::string_view source_hash;  // SHA-256 of the body and ABI sources
  std::span<const std::uint32_t> launch_spirv;      // one item per dispatch
  std::span<const std::uint32_t> persistent_spirv;  // the queue-polling variant
};

}  // namespace spool
