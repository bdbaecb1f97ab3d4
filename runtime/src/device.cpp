// spool::Device: kernels, buffers, calibration and the dispatcher.
#include "spool/device.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "options.hpp"
#include "spool/error.hpp"
#include "spool/runtime.hpp"

namespace spool {

namespace {

std::optional<LaunchMode> parse_force(const DeviceOptions& o) {
  std::optional<std::string> s = o.force_mode ? o.force_mode : options::get_set("SPOOL_MODE");
  if (!s) return std::nullopt;
  LaunchMode m{};
  if (!policy::parse_launch_mode(*s, m)) {
    SPOOL_THROW(Errc::invalid_argument,
                "SPOOL_MODE='" + *s + "' is not one of launches, recorded, persistent");
  }
  return m;
}

bool want_calibration(const DeviceOptions& o) {
  if (o.calibrate) return *o.calibrate;
  return options::get("SPOOL_CALIBRATE") != "0";
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
  const auto force = parse_force(opts);
  LaunchProfile p;
  if (want_calibration(opts)) {
    p = impl_->calibrate();
    p.source = "calibrated";
  } else {
    p.source = "uncalibrated";
  }
  dispatcher_ = std::make_unique<Dispatcher>(*impl_, p, force);
  std::optional<std::string> tpath =
      opts.telemetry_path ? opts.telemetry_path : options::get_set("SPOOL_TELEMETRY");
  if (tpath && !tpath->empty()) dispatcher_->add_sink(std::make_shared<JsonLinesSink>(*tpath));
}

Device::~Device() {
  // The backend goes first: it drains pending work and delivers every
  // completion (into the dispatcher, which must still exist) before it stops.
  impl_.reset();
  dispatcher_.reset();
}

const DeviceInfo& Device::info() const noexcept { return impl_->info(); }
LaunchProfile Device::profile() const { return dispatcher_->profile(); }

void Device::recalibrate() {
  LaunchProfile p = impl_->calibrate();
  p.source = "calibrated";
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
