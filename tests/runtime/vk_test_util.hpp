// Helpers shared by the Vulkan end-to-end tests: environment overrides that
// restore what was there, the default device, forced modes.
#pragma once

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spool/spool.hpp"

namespace spool::test {

// Sets environment variables for the scope; restores the previous values.
class Env {
 public:
  explicit Env(std::initializer_list<std::pair<std::string, std::string>> v) {
    for (auto& [k, val] : v) {
      const char* old = std::getenv(k.c_str());
      saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      setenv(k.c_str(), val.c_str(), 1);
    }
  }
  ~Env() {
    for (auto& [k, old] : saved_) {
      if (old) {
        setenv(k.c_str(), old->c_str(), 1);
      } else {
        unsetenv(k.c_str());
      }
    }
  }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

inline std::shared_ptr<spool::Device> open_device(bool calibrate = false) {
  spool::RuntimeOptions o;
  o.device_options.calibrate = calibrate;
  o.device_options.autotune = "off";  // each test runs exactly the kernel it names
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

inline spool::SubmitOptions forced(spool::LaunchMode m) {
  spool::SubmitOptions o;
  o.force_mode = m;
  return o;
}

#define REQUIRE_DEVICE(dev) \
  if (!(dev)) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)"

}  // namespace spool::test
