// spool calibrate [--device D] [--json] [--no-store]: measures the launch
// profile of one device under the conditions this process runs in, prints it
// and stores it in the autotune store (where SPOOL_CALIBRATE=auto finds it).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ostream>
#include <string>

#include "autotune_access.hpp"
#include "cli.hpp"
#include "device_access.hpp"
#include "text.hpp"

namespace spool::cli {

namespace {

struct CalibrateArgs {
  std::optional<std::string> device;
  bool json = false;
  bool no_store = false;
};

// Stores through the runtime's own path (the device opened with calibrate =
// always and a store), so the key is exactly the one a later device open
// looks up (device + driver + CPU placement + Spool version); then checks
// that the row is there, since the runtime only logs a failed store.
bool profile_stored(const std::string& db, const DeviceInfo& info, std::int64_t since_unix) {
  if (db.empty() || db == ":memory:") return false;
  StoreSnapshot snap(db);
  const autotune::DeviceKey k = device_key(info);
  for (const auto& r : snap.store().list_profiles()) {
    const bool same_device = r.device.backend == k.backend && r.device.uuid == k.uuid && r.device.name == k.name;
    const bool same_driver = r.device.driver_version == k.driver_version ||
                             r.device.driver_version.rfind(k.driver_version + " [", 0) == 0;
    if (same_device && same_driver && r.spool_version == autotune::spool_version() &&
        r.profile.measured_at_unix >= since_unix) {
      return true;
    }
  }
  return false;
}

int run_calibrate(Context& ctx, const CalibrateArgs& a) {
  Runtime rt = quiet_runtime();
  const std::size_t index = pick_device(rt, a.device);
  const DeviceInfo info = rt.devices()[index].info;
  ctx.err << "calibrating device " << index << ": " << info.name << " (" << to_string(info.backend) << ", "
          << info.driver_version << ")\n";
  ctx.err << "  measuring launches, recorded replays and the persistent queue ..." << std::flush;
  const auto t0 = std::chrono::steady_clock::now();
  LaunchProfile p;
  std::string stored_in;
  if (a.no_store || ctx.db_path == ":memory:") {
    auto dev = rt.open(index);
    p = dev->impl().calibrate();
  } else {
    RuntimeOptions ro;
    ro.device_options.calibrate = true;
    // "race" opens the store read-write ("frozen" opens it read-only, so the
    // profile could not be stored); no kernel runs here, so nothing is raced:
    // besides the profile only the device's current key is recorded.
    ro.device_options.autotune = "race";
    ro.device_options.autotune_db = ctx.db_path;
    ro.device_options.telemetry_path = std::string();
    const std::int64_t since =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    Runtime store_rt = make_runtime(ro);
    auto dev = store_rt.open(index);
    p = dev->profile();
    dev.reset();
    if (!profile_stored(ctx.db_path, info, since)) {
      throw std::runtime_error("the profile was measured but could not be stored in '" + ctx.db_path +
                               "' (the log says why)");
    }
    stored_in = ctx.db_path;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ctx.err << " done in " << fixed(secs, 2) << " s\n";

  if (a.json) {
    nlohmann::ordered_json j;
    j["device"] = {{"index", index}, {"name", info.name}, {"backend", to_string(info.backend)},
                   {"driver", info.driver_version}, {"api", info.api_version}};
    j["profile"] = {{"launch_ns", p.launch_ns},
                    {"record_setup_ns", p.record_setup_ns},
                    {"replay_ns", p.replay_ns},
                    {"persistent_setup_ns", p.persistent_setup_ns},
                    {"queue_item_ns", p.queue_item_ns},
                    {"recorded_available", p.recorded_available},
                    {"persistent_available", p.persistent_available}};
    j["seconds"] = secs;
    j["stored_in"] = stored_in.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(stored_in);
    ctx.out << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << "launch profile of " << info.name << ":\n";
  Table t({"", "overhead", "ns", "meaning"});
  t.add({"L", "launch", fixed(p.launch_ns, 0), "one ordinary launch (submit + completion)"});
  t.add({"R", "record setup", p.recorded_available ? fixed(p.record_setup_ns, 0) : "-",
         "recording + submitting one replay"});
  t.add({"r", "replay", p.recorded_available ? fixed(p.replay_ns, 0) : "-", "each dispatch inside a replay"});
  t.add({"P", "persistent setup", p.persistent_available ? fixed(p.persistent_setup_ns, 0) : "-",
         "starting the persistent kernel"});
  t.add({"p", "queue item", p.persistent_available ? fixed(p.queue_item_ns, 0) : "-",
         "each item through the persistent queue"});
  t.print(ctx.out, "  ");
  if (stored_in.empty()) {
    ctx.out << "not stored (" << (a.no_store ? "--no-store" : "--db :memory:") << ")\n";
  } else {
    ctx.out << "stored in " << stored_in << " (used at device open with SPOOL_CALIBRATE=auto)\n";
  }
  return kExitOk;
}

}  // namespace

void add_calibrate(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("calibrate", "measure a device's launch overheads, print and store them");
  auto a = std::make_shared<CalibrateArgs>();
  cmd->add_option("--device,-d", a->device, "device index or name substring (default: SPOOL_DEVICE, else the best)");
  cmd->add_flag("--json", a->json, "print JSON instead of a table");
  cmd->add_flag("--no-store", a->no_store, "measure and print only; leave the autotune store alone");
  cmd->footer("Progress goes to stderr, the profile to stdout. Stored per device + driver + Spool\n"
              "version in the autotune store (--db).");
  cmd->callback([&ctx, a] { ctx.rc = run_calibrate(ctx, *a); });
}

}  // namespace spool::cli
