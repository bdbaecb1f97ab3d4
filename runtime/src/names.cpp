// Names of the public enums.
#include "spool/args.hpp"
#include "spool/types.hpp"

namespace spool {

const char* to_string(BackendKind b) noexcept {
  switch (b) {
    case BackendKind::vulkan: return "vulkan";
    case BackendKind::cuda: return "cuda";
    case BackendKind::mock: return "mock";
  }
  return "unknown";
}

const char* to_string(DeviceType t) noexcept {
  switch (t) {
    case DeviceType::discrete_gpu: return "discrete_gpu";
    case DeviceType::integrated_gpu: return "integrated_gpu";
    case DeviceType::virtual_gpu: return "virtual_gpu";
    case DeviceType::cpu: return "cpu";
    case DeviceType::other: return "other";
  }
  return "unknown";
}

const char* to_string(ArgKind k) noexcept {
  switch (k) {
    case ArgKind::buffer: return "buffer";
    case ArgKind::u32: return "u32";
    case ArgKind::i32: return "i32";
    case ArgKind::f32: return "f32";
    case ArgKind::bound_buffer: return "bound buffer";
  }
  return "unknown";
}

}  // namespace spool
