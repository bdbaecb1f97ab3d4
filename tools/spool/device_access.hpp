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

// The autotune store's key of a device. Must match the runtime's own mapping
// (runtime/src/device.cpp); tests/tools check that a profile stored by
// `spool calibrate` is the one a device opened later loads.
autotune::DeviceKey device_key(const DeviceInfo& info);

}  // namespace spool::cli
