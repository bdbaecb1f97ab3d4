// LaunchModel: what the dispatcher believes about launch costs on one device.
// It starts from the calibrated profile and learns online, per kernel and
// grid bucket, the per-item cost each mode really had (EWMA). Internal.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "spool/policy/launch_mode.hpp"
#include "spool/types.hpp"

namespace spool {

struct ModelKey {
  std::string kernel;  // name + "/" + variant
  std::uint8_t grid_bucket = 0;
  auto operator<=>(const ModelKey&) const = default;
};

struct Prediction {
  policy::LaunchModeDecision decision;
  double kernel_ns = 0;  // the kernel's own per-item time assumed
  bool explore = false;  // mode chosen to re-measure a stale estimate
};

class LaunchModel {
 public:
  explicit LaunchModel(LaunchProfile p) : profile_(std::move(p)) {}

  // `available[m]`: the device and kernel can run mode m.
  Prediction predict(const ModelKey& key, std::uint32_t n, bool resident,
                     const std::array<bool, 3>& available);
  // Folds one executed batch in. device_ns < 0 when the backend did not time it.
  void observe(const ModelKey& key, LaunchMode m, std::uint32_t n, double wall_ns,
               double device_ns, bool paid_setup);

  LaunchProfile profile() const;
  void set_profile(LaunchProfile p);

  static constexpr double kAlphaKernel = 0.25;   // per-kernel observations
  static constexpr double kAlphaDevice = 0.1;    // device profile refinement
  static constexpr std::uint64_t kExploreEvery = 64;  // batches per key
  static constexpr std::uint64_t kStaleAfter = 512;   // batches per key

 private:
  struct Entry {
    double kernel_ns = -1;                 // from device timestamps, < 0 unknown
    std::array<double, 3> per_item{-1, -1, -1};  // observed per-item cost, < 0 unknown
    std::array<std::uint64_t, 3> seen_at{0, 0, 0};
    std::array<bool, 2> warmed{false, false};  // per-launch pipeline, persistent pipeline
    std::uint64_t batches = 0;
  };
  double overhead(LaunchMode m) const;  // profile's per-item overhead of m
  double setup(LaunchMode m, bool resident) const;

  mutable std::mutex mu_;
  LaunchProfile profile_;
  std::map<ModelKey, Entry> entries_;
};

std::uint8_t grid_bucket(std::uint32_t grid) noexcept;

}  // namespace spool
