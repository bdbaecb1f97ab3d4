// The built-in GLSL kernels: the table spool_add_kernels() generated.
#include "spool/kernels/builtin_glsl.hpp"

#include "spool_kernels_builtin.hpp"

namespace spool::kernels {

std::span<const EmbeddedKernel> builtin_glsl() { return builtin::all(); }

}  // namespace spool::kernels
