// Opening runtimes and devices for the commands, without side effects the
// command did not ask for: no calibration, no autotune store, no telemetry
// unless requested.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "spool/autotune/store.hpp"
#include "spool/spool.hpp"

namespace spool::cli {

// A Runtime over every backend; opening a device through it measures nothing,
// opens no store and writes no telemetry.
Runtime quiet_runtime();
// The device `selector` names (index or name substring; unset: SPOOL_DEVICE,
// else the best device). Throws spool::Error when there is none.
std::size_t pick_device(const Runtime& rt, const std::optional<std::string>& selector);

// The autotune store's key of a device (runtime/src/device.cpp maps it the
// same way; for the launch profile of a CPU device the runtime appends the
// CPU placement to driver_version: "<driver> [<placement>]").
autotune::DeviceKey device_key(const DeviceInfo& info);

}  // namespace spool::cli
