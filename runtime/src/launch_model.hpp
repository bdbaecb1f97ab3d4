// LaunchModel: what the dispatcher believes about launch costs on one device.
//
// Per (kernel/variant, grid bucket, ordering) and mode, a batch's wall time is
// a line t(n) = a + b n fitted online (launch_fit.hpp) from the batches that
// ran, starting from the calibrated profile. What a mode switch costs is
// learned apart: P, starting the persistent kernel (batches that paid it), and
// Q, parking it before launches or recorded can run (reported by the
// backend). One-time costs (pipeline compilation on first use) are reported
// on their own and never folded in. The choice is policy::choose_with_
// transitions over these predictions: rent-or-buy with hysteresis, so short
// gaps never restart the kernel and modes do not flap. Internal.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "launch_fit.hpp"
#include "spool/policy/launch_mode.hpp"
#include "spool/policy/transition.hpp"
#include "spool/types.hpp"

namespace spool {

struct ModelKey {
  std::string kernel;  // name + "/" + variant
  std::uint8_t grid_bucket = 0;
  bool sequential = false;
  auto operator<=>(const ModelKey&) const = default;
};

struct Prediction {
  policy::LaunchModeDecision decision;  // mode, predicted_ns per mode (incl. switch costs), available
  double kernel_ns = 0;                 // the kernel's own time per item assumed (0: unknown)
  bool explore = false;                 // chosen to re-measure a stale estimate, not as the cheapest
};

// What one finished batch taught the model.
struct Observation {
  LaunchMode mode = LaunchMode::launches;
  std::uint32_t n = 0;
  double wall_ns = 0;     // submit to completion
  double device_ns = -1;  // device time of the dispatches, < 0 unknown
  bool paid_start = false;  // persistent: the kernel was started for it
  double parked_ns = 0;   // launches/recorded: time spent parking a resident kernel first
};

class LaunchModel {
 public:
  explicit LaunchModel(LaunchProfile p) : profile_(std::move(p)) {}

  // `available[m]`: the device and kernel can run mode m. `resident`: the
  // persistent kernel for this key is resident. `forced`: the caller chose
  // the mode; the prediction is still made, the switching state untouched.
  Prediction predict(const ModelKey& key, std::uint32_t n, bool resident, const std::array<bool, 3>& available,
                     bool forced = false);
  // Folds one batch in. Returns the batch's one-time cost beyond the
  // prediction when it was the first through its pipeline (else 0).
  double observe(const ModelKey& key, const Observation& o, double predicted_ns);

  LaunchProfile profile() const;
  void set_profile(LaunchProfile p);

  static constexpr double kAlphaSwitch = 0.25;  // P and Q estimates
  static constexpr double kAlphaKernel = 0.25;
  static constexpr double kAlphaDevice = 0.1;   // device profile refinement
  static constexpr std::uint64_t kExploreEvery = 64;  // batches per key
  static constexpr std::uint64_t kStaleAfter = 256;   // batches per key

 private:
  struct Entry {
    std::array<LaunchFit, 3> fit;
    std::array<std::uint64_t, 3> seen_at{0, 0, 0};
    std::array<bool, 3> observed{false, false, false};
    std::array<bool, 2> warmed{false, false};  // per-launch pipeline, persistent pipeline
    double kernel_ns = -1;                     // from device timestamps
    double start_ns = -1;                      // P for this kernel, < 0: the profile's
    std::uint64_t batches = 0;
  };
  void set_priors(Entry& e) const;

  mutable std::mutex mu_;
  LaunchProfile profile_;
  std::map<ModelKey, Entry> entries_;
  policy::TransitionState transition_;
  double park_ns_ = -1;  // Q, < 0: not measured yet
};

std::uint8_t grid_bucket(std::uint32_t grid) noexcept;

}  // namespace spool
