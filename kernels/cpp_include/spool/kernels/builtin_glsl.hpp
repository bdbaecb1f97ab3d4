// The built-in GLSL kernels, compiled to SPIR-V at build time and embedded.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace spool::kernels {

struct EmbeddedKernel {
  std::string_view name;
  std::string_view source_hash;  // SHA-256 of the body and ABI sources
  std::span<const std::uint32_t> launch_spirv;
  std::span<const std::uint32_t> persistent_spirv;
};

// All built-in kernels, in a fixed order.
std::span<const EmbeddedKernel> builtin_glsl();

}  // namespace spool::kernels
