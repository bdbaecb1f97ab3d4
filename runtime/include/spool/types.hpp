// Plain types shared by the public API and the backends.
#pragma once

#include <cstdint>
#include <string>

#include "spool/policy/launch_mode.hpp"

namespace spool {

using LaunchMode = policy::LaunchMode;

enum class BackendKind : std::uint8_t { vulkan, cuda, mock };
const char* to_string(BackendKind b) noexcept;

enum class DeviceType : std::uint8_t { discrete_gpu, integrated_gpu, virtual_gpu, cpu, other };
const char* to_string(DeviceType t) noexcept;

// The measured overheads the launch-mode policy needs, in nanoseconds.
//   launch_ns            L  one ordinary launch (submit + completion) of an empty kernel
//   record_setup_ns      R  recording + submitting one replay, beyond its dispatches
//   replay_ns            r  each dispatch inside a replay
//   persistent_setup_ns  P  starting the persistent kernel (paid when not resident)
//   queue_item_ns        p  each item pushed through the persistent queue
struct LaunchProfile {
  double launch_ns = 0;
  double record_setup_ns = 0;
  double replay_ns = 0;
  double persistent_setup_ns = 0;
  double queue_item_ns = 0;
  bool recorded_available = false;
  bool persistent_available = false;
  std::uint64_t samples = 0;      // batches folded in since calibration
  std::string source;             // "calibrated", "store" (checked at open), "uncalibrated"
  // CPU devices: the CPUs this process may use when it was measured
  // ("cpus 0-1 of 2"); part of the key the profile is stored under.
  std::string placement;
  // What the check of a stored profile found ("" when none was made).
  std::string validation;
};

struct DeviceLimits {
  std::uint32_t max_workgroup_size = 0;
  std::uint32_t max_push_constant_bytes = 0;
  std::uint32_t compute_units = 0;  // SMs on CUDA; 0 when the API does not say
  std::uint64_t max_buffer_bytes = 0;
};

struct DeviceInfo {
  std::string name;
  BackendKind backend = BackendKind::vulkan;
  DeviceType type = DeviceType::other;
  std::string uuid;            // hex
  std::string driver_version;  // human readable
  std::string api_version;     // e.g. "1.3.230"
  DeviceLimits limits;
};

}  // namespace spool
