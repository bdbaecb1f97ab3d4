// spool::Runtime: device discovery and selection.
#include "spool/runtime.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "spool/options.hpp"
#include "spool/error.hpp"
#include "spool/log.hpp"

namespace spool {

namespace {

int rank(DeviceType t) {
  switch (t) {
    case DeviceType::discrete_gpu: return 0;
    case DeviceType::integrated_gpu: return 1;
    case DeviceType::virtual_gpu: return 2;
    case DeviceType::cpu: return 3;
    case DeviceType::other: return 4;
  }
  return 5;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Runtime::Runtime(std::vector<std::unique_ptr<backend::Backend>> backends, RuntimeOptions options)
    : backends_(std::move(backends)), options_(std::move(options)) {
  // Every SPOOL_* value is checked here, before any device work: a bad one
  // is a spool::Error naming it, whichever code would have read it.
  options::Settings env = options::from_environment();
  if (options_.device) {
    options::apply(env, "SPOOL_DEVICE", *options_.device, "RuntimeOptions::device (SPOOL_DEVICE)");
  }
  for (std::size_t b = 0; b < backends_.size(); ++b) {
    std::string why;
    const auto infos = backends_[b]->enumerate(&why);
    if (infos.empty()) {
      notes_.push_back(std::string(to_string(backends_[b]->kind())) + ": " +
                       (why.empty() ? "no devices" : why));
      // Expected on machines without that API (no CUDA driver): not a warning.
      log(LogLevel::info, notes_.back());
    }
    for (std::size_t i = 0; i < infos.size(); ++i) devices_.push_back({infos[i], b, i});
  }
  // Best first; stable so a backend's own order breaks ties (CUDA before
  // Vulkan for the same GPU, as backends are listed in that order).
  std::stable_sort(devices_.begin(), devices_.end(), [](const DeviceEntry& a, const DeviceEntry& b) {
    return rank(a.info.type) < rank(b.info.type);
  });
}

Runtime::~Runtime() = default;
Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&&) noexcept = default;

std::size_t Runtime::select(const std::string& selector) const {
  if (devices_.empty()) SPOOL_THROW(Errc::not_supported, "no device found");
  const bool numeric = !selector.empty() &&
                       std::all_of(selector.begin(), selector.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  if (numeric) {
    const auto i = selector.size() > 9 ? devices_.size() : std::stoull(selector);
    if (i >= devices_.size()) {
      SPOOL_THROW(Errc::invalid_argument, "device index " + selector + " out of range (" +
                                              std::to_string(devices_.size()) + " devices)");
    }
    return static_cast<std::size_t>(i);
  }
  const std::string needle = lower(selector);
  std::string known;
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    if (lower(devices_[i].info.name).find(needle) != std::string::npos ||
        lower(to_string(devices_[i].info.backend)) == needle) {
      return i;
    }
    known += (known.empty() ? "" : ", ") + devices_[i].info.name;
  }
  SPOOL_THROW(Errc::invalid_argument, "no device matches '" + selector + "' (devices: " + known + ")");
}

std::shared_ptr<Device> Runtime::open(std::size_t index) {
  if (index >= devices_.size()) {
    SPOOL_THROW(Errc::invalid_argument, "device index " + std::to_string(index) + " out of range");
  }
  const DeviceEntry& e = devices_[index];
  return std::make_shared<Device>(backends_[e.backend]->open(e.index), options_.device_options);
}

std::shared_ptr<Device> Runtime::open_default() {
  std::optional<std::string> sel = options_.device ? options_.device : options::from_environment().device;
  if (devices_.empty()) {
    std::string why;
    for (const auto& n : notes_) why += (why.empty() ? "" : "; ") + n;
    SPOOL_THROW(Errc::not_supported, "no device found (" + why + ")");
  }
  return open(sel ? select(*sel) : 0);
}

}  // namespace spool
