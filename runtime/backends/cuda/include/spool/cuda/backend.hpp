// spool::cuda — the CUDA backend (compiled wherever the CUDA toolkit is;
// runs where a CUDA driver and device are).
#pragma once

#include <memory>

#include "spool/backend/backend.hpp"

namespace spool::cuda {

// A backend over every CUDA device the runtime reports. Without a driver or
// a device, enumerate() returns an empty list and says why in `why_none`
// (e.g. "no CUDA driver: cudaErrorInsufficientDriver"); it never throws.
std::unique_ptr<backend::Backend> make_backend();

}  // namespace spool::cuda
