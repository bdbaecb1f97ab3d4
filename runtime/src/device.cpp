// spool::Device: kernels, buffers, calibration and the dispatcher.
#include "spool/device.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "spool/options.hpp"
#include "placement.hpp"
#include "racer.hpp"
#include "report_once.hpp"
#include "spool/backend/calibration.hpp"
#include "spool/autotune/store.hpp"
#include "spool/error.hpp"
#include "spool/log.hpp"
#include "spool/runtime.hpp"

namespace spool {

namespace {

// The SPOOL_* environment with the DeviceOptions given in code on top; both
// go through the one options table, so a bad value is the same clear error.
options::Settings settings_of(const DeviceOptions& o) {
  options::Settings s = options::from_environment();
  if (o.force_mode) {
    options::apply(s, "SPOOL_MODE", *o.force_mode, "DeviceOptions::force_mode (SPOOL_MODE)");
  }
  if (o.autotune) {
    options::apply(s, "SPOOL_AUTOTUNE", *o.autotune, "DeviceOptions::autotune (SPOOL_AUTOTUNE)");
  }
  if (o.autotune_db) s.autotune_db = *o.autotune_db;
  if (o.autotune_wg) {
    options::apply(s, "SPOOL_AUTOTUNE_WG", *o.autotune_wg,
                   "DeviceOptions::autotune_wg (SPOOL_AUTOTUNE_WG)");
  }
  if (o.telemetry_path) s.telemetry = *o.telemetry_path;
  if (o.calibrate) s.calibrate = *o.calibrate ? options::Calibrate::always : options::Calibrate::skip;
  if (o.validate) s.validate = *o.validate;
  return s;
}

// How far a quick check may stray from a stored profile's per-item costs
// before the profile is measured again.
constexpr double kProfileTolerance = 2.0;

AutotuneMode autotune_of(options::Autotune a) {
  switch (a) {
    case options::Autotune::off: return AutotuneMode::off;
    case options::Autotune::race: return AutotuneMode::race;
    case options::Autotune::frozen: return AutotuneMode::frozen;
  }
  return AutotuneMode::off;
}

// How long device open (and later each store write) waits while another
// process holds the autotune store locked; past it the runtime goes on with
// an in-memory store (docs/autotune.md).
constexpr std::chrono::milliseconds kStoreWait{250};

// Opens the autotune store: read-only in frozen mode (so a pre-tuned store
// may be shipped read-only), else read-write. A corrupt file has been renamed
// aside by the store (the warning says where); a store locked by another
// process for longer than kStoreWait, or unusable otherwise, is reported
// and the runtime goes on with an in-memory store.
std::shared_ptr<autotune::Store> open_store(const options::Settings& s, AutotuneMode tune) {
  std::string path = s.autotune_db.value_or(std::string());
  if (path.empty()) path = autotune::Store::default_path();
  std::string warning;
  autotune::OpenOptions oo;
  oo.read_only = tune == AutotuneMode::frozen && path != ":memory:";
  oo.busy_timeout = kStoreWait;
  try {
    std::shared_ptr<autotune::Store> st = autotune::Store::open(path, oo, &warning);
    if (!warning.empty()) log(LogLevel::warn, "autotune store: " + warning);
    return st;
  } catch (const std::exception& e) {
    log(LogLevel::warn, "autotune store '" + path + "' unusable (" + e.what() +
                            "); continuing with an in-memory store, so nothing is saved by this process");
    return autotune::Store::open(":memory:");
  }
}

// Stale launch profiles of this device: reported once per process and device.
void report_stale_profiles(autotune::Store& store, const autotune::DeviceKey& d) {
  if (!detail::first_report("profiles|" + store.path() + "|" + d.backend + "|" + d.uuid + "|" + d.name)) return;
  const autotune::StaleReport r = store.stale(d, autotune::KernelKey{});
  if (r.stale_profiles == 0) return;
  std::string why;
  for (const auto& reason : r.reasons) why += (why.empty() ? "" : "; ") + reason;
  log(LogLevel::warn, "autotune store " + store.path() + ": " + std::to_string(r.stale_profiles) +
                          " stale launch profile rows, not used (" + why + ")");
}

autotune::DeviceKey device_key(const DeviceInfo& i) {
  return {to_string(i.backend), i.uuid, i.name, i.driver_version, i.api_version};
}

LaunchProfile from_record(const autotune::LaunchProfileRecord& r) {
  LaunchProfile p;
  p.launch_ns = r.launch_ns;
  p.record_setup_ns = r.record_setup_ns;
  p.replay_ns = r.replay_ns;
  p.persistent_setup_ns = r.persistent_setup_ns;
  p.queue_item_ns = r.queue_item_ns;
  p.recorded_available = r.replay_ns > 0;
  p.persistent_available = r.queue_item_ns > 0;
  p.source = "store";
  return p;
}

autotune::LaunchProfileRecord to_record(const LaunchProfile& p) {
  autotune::LaunchProfileRecord r;
  r.launch_ns = p.launch_ns;
  r.record_setup_ns = p.record_setup_ns;
  r.replay_ns = p.replay_ns;
  r.persistent_setup_ns = p.persistent_setup_ns;
  r.queue_item_ns = p.queue_item_ns;
  r.samples = p.samples;
  r.measured_at_unix = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return r;
}

std::vector<std::uint32_t> read_spirv(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) SPOOL_THROW(Errc::invalid_argument, "cannot read SPIR-V file '" + path + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.empty() || bytes.size() % 4 != 0) {
    SPOOL_THROW(Errc::invalid_argument, "'" + path + "' is not SPIR-V: size " +
                                            std::to_string(bytes.size()) + " is not a multiple of 4");
  }
  std::vector<std::uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  if (words[0] != 0x07230203u) {
    SPOOL_THROW(Errc::invalid_argument, "'" + path + "' is not SPIR-V: bad magic number");
  }
  return words;
}

}  // namespace

Device::Device(std::unique_ptr<backend::DeviceImpl> impl, const DeviceOptions& opts)
    : impl_(std::move(impl)) {
  const options::Settings set = settings_of(opts);
  const options::Calibrate cal = set.calibrate;
  const AutotuneMode tune = autotune_of(set.autotune);
  bool validate = set.validate;
  if (validate && !impl_->enable_validation()) {
    log(LogLevel::warn, "validation mode (SPOOL_VALIDATE) is not supported by the " +
                            std::string(to_string(impl_->info().backend)) + " backend; buffers are not guarded");
    validate = false;
  }
  std::shared_ptr<autotune::Store> store;
  if (tune != AutotuneMode::off || cal == options::Calibrate::cached) store = open_store(set, tune);
  const autotune::DeviceKey dkey = device_key(impl_->info());
  if (store && !store->in_memory()) {
    const std::string path = store->path();
    const auto slash = path.find_last_of('/');
    impl_->attach_cache_dir(slash == std::string::npos ? "." : path.substr(0, slash));
  }

  // A CPU device measures differently depending on the CPUs the process
  // may use: its profile is stored per placement.
  autotune::DeviceKey pkey = dkey;
  const std::string placement = impl_->info().type == DeviceType::cpu ? cpu_placement() : std::string();
  if (!placement.empty()) pkey.driver_version += " [" + placement + "]";
  if (store) {
    try {
      report_stale_profiles(*store, pkey);
      if (tune == AutotuneMode::race) store->record_current(pkey, autotune::KernelKey{});
    } catch (const std::exception& e) {
      log(LogLevel::warn, std::string("autotune store: ") + e.what());
    }
  }
  LaunchProfile p;
  p.source = "uncalibrated";
  if (cal == options::Calibrate::cached && store) {
    try {
      if (auto rec = store->load_profile(pkey)) p = from_record(*rec);
    } catch (const std::exception& e) {
      log(LogLevel::warn, std::string("cannot use the stored launch profile; measuring instead (") + e.what() + ")");
    }
    // A stored profile was measured under another process's conditions:
    // check it with a few probes per mode before trusting it.
    if (p.source == "store") {
      std::string why;
      const LaunchProfile quick = impl_->calibrate_quick();
      if (backend::profile_agrees(p, quick, kProfileTolerance, &why)) {
        p.validation = "stored profile confirmed by a quick check";
        p.queue_latency_ns = quick.queue_latency_ns;  // not stored: taken from the check
      } else {
        p.source = "stale";
        p.validation = "stored profile disagreed with a quick check (" + why + "); recalibrated";
      }
    }
  }
  if (cal == options::Calibrate::always || (cal == options::Calibrate::cached && p.source != "store")) {
    log(LogLevel::info, "calibrating the launch profile of " + impl_->info().name);
    const std::string validation = p.validation;
    p = impl_->calibrate();
    p.source = "calibrated";
    p.validation = validation;
    if (store && !store->read_only()) {  // frozen: nothing is written
      try {
        store->save_profile(pkey, to_record(p));
      } catch (const std::exception& e) {
        log(LogLevel::warn, std::string("cannot store the launch profile (") + e.what() + ")");
      }
    }
  }
  p.placement = placement;
  std::shared_ptr<Racer> racer;
  if (tune != AutotuneMode::off && store) {
    backend::DeviceImpl* dev = impl_.get();
    racer = std::make_shared<Racer>(
        store, dkey, tune,
        [dev](const backend::KernelImpl& k, std::uint32_t wg) {
          return dev->load_variant(k, backend::KernelVariant{wg});
        },
        set.autotune_wg, impl_->info().limits.max_workgroup_size);
  }
  dispatcher_ = std::make_unique<Dispatcher>(*impl_, p, set.mode, std::move(racer));
  dispatcher_->set_validate(validate);
  if (set.telemetry && !set.telemetry->empty()) {
    // Telemetry is an observer: a path it cannot write is a warning, and the
    // application keeps running without it.
    try {
      dispatcher_->add_sink(std::make_shared<JsonLinesSink>(*set.telemetry));
    } catch (const Error& e) {
      log(LogLevel::warn, "telemetry disabled: cannot open '" + *set.telemetry +
                              "' for appending (" + e.native() + ")");
    }
  }
}

Device::~Device() {
  // The backend goes first: it drains pending work and delivers every
  // completion (into the dispatcher, which must still exist) before it stops.
  // Waiters stop polling it first.
  dispatcher_->detach_device();
  impl_.reset();
  dispatcher_.reset();
}

const DeviceInfo& Device::info() const noexcept { return impl_->info(); }
LaunchProfile Device::profile() const { return dispatcher_->profile(); }

void Device::recalibrate() {
  LaunchProfile p = impl_->calibrate();
  p.source = "calibrated";
  if (impl_->info().type == DeviceType::cpu) p.placement = cpu_placement();
  dispatcher_->set_profile(std::move(p));
}

std::vector<std::string> Device::builtin_kernels() const { return impl_->builtin_kernels(); }

Kernel Device::kernel(std::string_view name, const backend::KernelVariant& v) {
  return Kernel(impl_->load_builtin(name, v));
}

Kernel Device::load_spirv(std::string name, std::span<const std::uint32_t> launch,
                          std::span<const std::uint32_t> persistent,
                          const backend::KernelVariant& v) {
  return Kernel(impl_->load_spirv(std::move(name), launch, persistent, v));
}

Kernel Device::load(const EmbeddedKernel& k, const backend::KernelVariant& v) {
  if (k.name.empty() || k.launch_spirv.empty()) {
    SPOOL_THROW(Errc::invalid_argument, "embedded kernel '" + std::string(k.name) + "' has no SPIR-V");
  }
  backend::SpirvModule m;
  m.name = std::string(k.name);
  m.launch = k.launch_spirv;
  m.persistent = k.persistent_spirv;
  m.source_hash = std::string(k.source_hash);
  m.race_workgroups.assign(k.workgroup_sizes.begin(), k.workgroup_sizes.end());
  return Kernel(impl_->load_module(m, v));
}

void Device::park_persistent() { impl_->park_persistent(); }

Kernel Device::load_spirv_file(std::string name, const std::string& launch_path,
                               const std::string& persistent_path,
                               const backend::KernelVariant& v) {
  const auto launch = read_spirv(launch_path);
  std::vector<std::uint32_t> persistent;
  if (!persistent_path.empty()) persistent = read_spirv(persistent_path);
  return load_spirv(std::move(name), launch, persistent, v);
}

Buffer Device::buffer(std::uint64_t bytes, Memory memory) {
  if (bytes == 0) SPOOL_THROW(Errc::invalid_argument, "buffer of 0 bytes");
  return Buffer(impl_->create_buffer(bytes, memory == Memory::host_visible));
}

Submission Device::submit(Batch batch, const SubmitOptions& o) {
  return dispatcher_->submit(std::move(batch), o);
}

Verdict Device::run(Batch batch, const SubmitOptions& o) {
  return dispatcher_->submit(std::move(batch), o).wait();
}

void Device::add_telemetry_sink(std::shared_ptr<TelemetrySink> sink) {
  dispatcher_->add_sink(std::move(sink));
}

}  // namespace spool
