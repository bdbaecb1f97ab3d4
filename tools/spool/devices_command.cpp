// spool devices [--json]: every device of every backend, what it is and which
// launch modes it offers (and why not), plus the backends that found none.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

#include "cli.hpp"
#include "device_access.hpp"
#include "text.hpp"

namespace spool::cli {

namespace {

struct ModeInfo {
  bool available = false;
  std::string reason;
};

struct Listed {
  DeviceInfo info;
  std::string open_error;  // the device could not be opened to ask about modes
  ModeInfo modes[3];
};

int run_devices(Context& ctx, bool json) {
  Runtime rt = quiet_runtime();
  std::vector<Listed> listed;
  for (std::size_t i = 0; i < rt.devices().size(); ++i) {
    Listed l;
    l.info = rt.devices()[i].info;
    try {
      auto dev = rt.open(i);
      for (std::size_t m = 0; m < 3; ++m) {
        const auto mode = static_cast<LaunchMode>(m);
        l.modes[m].available = dev->impl().supports(mode);
        if (!l.modes[m].available) l.modes[m].reason = dev->impl().unsupported_reason(mode);
      }
    } catch (const std::exception& e) {
      l.open_error = e.what();
    }
    listed.push_back(std::move(l));
  }

  if (json) {
    nlohmann::ordered_json j;
    j["devices"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const Listed& l = listed[i];
      nlohmann::ordered_json d;
      d["index"] = i;
      d["name"] = l.info.name;
      d["backend"] = to_string(l.info.backend);
      d["type"] = to_string(l.info.type);
      d["uuid"] = l.info.uuid;
      d["driver"] = l.info.driver_version;
      d["api"] = l.info.api_version;
      d["limits"] = {{"max_workgroup_size", l.info.limits.max_workgroup_size},
                     {"max_push_constant_bytes", l.info.limits.max_push_constant_bytes},
                     {"compute_units", l.info.limits.compute_units},
                     {"max_buffer_bytes", l.info.limits.max_buffer_bytes}};
      if (!l.open_error.empty()) d["open_error"] = l.open_error;
      nlohmann::ordered_json modes;
      for (std::size_t m = 0; m < 3; ++m) {
        nlohmann::ordered_json mj{{"available", l.modes[m].available}};
        if (!l.modes[m].available) mj["reason"] = l.open_error.empty() ? l.modes[m].reason : l.open_error;
        modes[std::string(policy::to_string(static_cast<LaunchMode>(m)))] = mj;
      }
      d["modes"] = modes;
      j["devices"].push_back(d);
    }
    j["backends_without_devices"] = nlohmann::ordered_json::array();
    for (const auto& n : rt.notes()) {
      const auto colon = n.find(": ");
      j["backends_without_devices"].push_back(
          {{"backend", n.substr(0, colon)}, {"reason", colon == std::string::npos ? "" : n.substr(colon + 2)}});
    }
    ctx.out << j.dump(2) << "\n";
    return listed.empty() ? kExitFailure : kExitOk;
  }

  if (listed.empty()) {
    ctx.out << "no devices\n";
  } else {
    Table t({"#", "name", "backend", "type", "driver", "api", "modes"});
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const Listed& l = listed[i];
      std::string modes;
      for (std::size_t m = 0; m < 3; ++m) {
        if (!l.modes[m].available) continue;
        modes += (modes.empty() ? "" : " ") + std::string(policy::to_string(static_cast<LaunchMode>(m)));
      }
      t.add({std::to_string(i), l.info.name, to_string(l.info.backend), to_string(l.info.type),
             l.info.driver_version, l.info.api_version, l.open_error.empty() ? modes : "?"});
    }
    t.print(ctx.out);
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const Listed& l = listed[i];
      if (!l.open_error.empty()) ctx.out << "device " << i << ": cannot open: " << l.open_error << "\n";
      for (std::size_t m = 0; m < 3 && l.open_error.empty(); ++m) {
        if (l.modes[m].available) continue;
        ctx.out << "device " << i << ": " << policy::to_string(static_cast<LaunchMode>(m))
                << " unavailable: " << l.modes[m].reason << "\n";
      }
    }
  }
  for (const auto& n : rt.notes()) ctx.out << "no device from " << n << "\n";
  return listed.empty() ? kExitFailure : kExitOk;
}

}  // namespace

void add_devices(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("devices", "list every device, its driver and the launch modes it offers");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON instead of a table");
  cmd->footer("Exit status: 0 at least one device, 1 none (the reasons are listed).");
  cmd->callback([&ctx, json] { ctx.rc = run_devices(ctx, *json); });
}

}  // namespace spool::cli
