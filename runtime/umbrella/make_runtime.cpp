#include <memory>
#include <vector>

#include "spool/spool.hpp"

#if defined(SPOOL_HAVE_CUDA)
#include "spool/cuda/backend.hpp"
#endif
#if defined(SPOOL_HAVE_VULKAN)
#include "spool/vulkan/backend.hpp"
#endif

namespace spool {

Runtime make_runtime(RuntimeOptions options) {
  std::vector<std::unique_ptr<backend::Backend>> backends;
#if defined(SPOOL_HAVE_CUDA)
  backends.push_back(cuda::make_backend());
#endif
#if defined(SPOOL_HAVE_VULKAN)
  backends.push_back(vulkan::make_backend());
#endif
  return Runtime(std::move(backends), std::move(options));
}

}  // namespace spool
