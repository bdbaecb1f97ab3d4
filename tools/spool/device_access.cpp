#include "device_access.hpp"

namespace spool::cli {

Runtime quiet_runtime() {
  RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "off";
  o.device_options.telemetry_path = std::string();
  return make_runtime(o);
}

std::size_t pick_device(const Runtime& rt, const std::optional<std::string>& selector) {
  if (rt.devices().empty()) {
    std::string why;
    for (const auto& n : rt.notes()) why += (why.empty() ? "" : "; ") + n;
    throw Error(Errc::not_supported, "no device found (" + why + ")");
  }
  if (selector) return rt.select(*selector);
  if (auto env = options::from_environment().device) return rt.select(*env);
  return 0;
}

autotune::DeviceKey device_key(const DeviceInfo& i) {
  return {to_string(i.backend), i.uuid, i.name, i.driver_version, i.api_version};
}

}  // namespace spool::cli
