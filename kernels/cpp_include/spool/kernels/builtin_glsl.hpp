// The built-in GLSL kernels, compiled to SPIR-V at build time and embedded.
#pragma once

#include <span>

#include "spool/embedded_kernel.hpp"

namespace spool::kernels {

using spool::EmbeddedKernel;

// All built-in kernels, in a fixed order.
std::span<const EmbeddedKernel> builtin_glsl();

}  // namespace spool::kernels
