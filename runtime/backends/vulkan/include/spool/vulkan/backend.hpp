// spool::vulkan — the Vulkan backend (lavapipe where there is no GPU).
#pragma once

#include <memory>

#include "spool/backend/backend.hpp"

namespace spool::vulkan {

// A backend over every Vulkan 1.2+ physical device with buffer device
// addresses and a compute queue. Devices without them are left out and
// named in the backend's `why_none` note.
std::unique_ptr<backend::Backend> make_backend();

}  // namespace spool::vulkan
