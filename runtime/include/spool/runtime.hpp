// spool::Runtime — discovers devices from every enabled backend and opens them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spool/backend/backend.hpp"
#include "spool/device.hpp"
#include "spool/types.hpp"

namespace spool {

// Options; unset fields fall back to the SPOOL_* environment (docs/options.md).
struct DeviceOptions {
  // true: measure the launch profile at open; false: don't (launches only
  // until batches teach the model). Unset: SPOOL_CALIBRATE (auto: reuse the
  // profile stored for this device + driver, else measure and store it).
  std::optional<bool> calibrate;
  std::optional<std::string> autotune;        // SPOOL_AUTOTUNE: off | race | frozen
  std::optional<std::string> autotune_db;     // SPOOL_AUTOTUNE_DB (":memory:" allowed)
  std::optional<std::string> autotune_wg;     // SPOOL_AUTOTUNE_WG: candidate workgroup sizes, "64,32,128,16,256"
  std::optional<std::string> telemetry_path;  // SPOOL_TELEMETRY
  std::optional<std::string> force_mode;      // SPOOL_MODE: launches|recorded|persistent
  // SPOOL_VALIDATE: guard bytes around every buffer this device allocates,
  // checked after each batch; an out-of-bounds write fails the batch's
  // verdict naming the kernel and the argument (docs/validation.md).
  std::optional<bool> validate;
};

struct RuntimeOptions {
  std::optional<std::string> device;  // SPOOL_DEVICE: index or name substring
  DeviceOptions device_options;
};

struct DeviceEntry {
  DeviceInfo info;
  std::size_t backend = 0;  // index into the runtime's backends
  std::size_t index = 0;    // index within that backend
};

class Runtime {
 public:
  explicit Runtime(std::vector<std::unique_ptr<backend::Backend>> backends,
                   RuntimeOptions options = {});
  ~Runtime();
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;

  // Every device of every backend, best first (discrete GPU, integrated,
  // virtual, CPU).
  const std::vector<DeviceEntry>& devices() const noexcept { return devices_; }
  // Why a backend offered no device ("cuda: no CUDA driver"), one per backend.
  const std::vector<std::string>& notes() const noexcept { return notes_; }

  std::shared_ptr<Device> open(std::size_t index);
  // The device SPOOL_DEVICE (or options.device) names, else the best one.
  // Throws spool::Error when no device exists or the selector matches none.
  std::shared_ptr<Device> open_default();
  // Resolves a selector (index or case-insensitive name substring).
  std::size_t select(const std::string& selector) const;

 private:
  std::vector<std::unique_ptr<backend::Backend>> backends_;
  RuntimeOptions options_;
  std::vector<DeviceEntry> devices_;
  std::vector<std::string> notes_;
};

}  // namespace spool
