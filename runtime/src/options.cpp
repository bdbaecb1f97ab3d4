// The SPOOL_* option table: one row per variable, each with its parser and
// accepted range (docs/options.md).
#include "spool/options.hpp"

#include <cstdlib>
#include <string>

#include "spool/error.hpp"

namespace spool::options {

namespace {

[[noreturn]] void reject(const Option& o, std::string_view source, std::string_view value,
                         const std::string& why) {
  std::string msg(source.empty() ? o.name : source);
  msg += "='";
  msg += value;
  msg += "' ";
  msg += why;
  msg += "; accepted: ";
  msg += o.accepted;
  msg += " (see docs/options.md or `spool options`)";
  SPOOL_THROW(Errc::invalid_argument, msg);
}

// A decimal integer in [lo, hi]: digits only (no sign, space or prefix).
std::uint64_t integer(std::string_view v, std::uint64_t lo, std::uint64_t hi, const Option& o,
                      std::string_view source) {
  if (v.empty() || v.size() > 20) reject(o, source, v, "is not a decimal integer");
  std::uint64_t x = 0;
  for (char c : v) {
    if (c < '0' || c > '9') reject(o, source, v, "is not a decimal integer");
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (x > (~std::uint64_t{0} - d) / 10) reject(o, source, v, "is out of range");
    x = x * 10 + d;
  }
  if (x < lo || x > hi) reject(o, source, v, "is out of range");
  return x;
}

std::uint32_t u32(std::string_view v, std::uint32_t lo, std::uint32_t hi, const Option& o,
                  std::string_view source) {
  return static_cast<std::uint32_t>(integer(v, lo, hi, o, source));
}

// Row parsers. `v` is never empty here (apply() handles "unset").

void parse_device(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  bool digits = true;
  for (char c : v) digits = digits && c >= '0' && c <= '9';
  if (digits) integer(v, 0, 65535, o, src);  // an index; its upper bound is checked at open
  s.device = std::string(v);
}

void parse_mode(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  if (v == "auto") {
    s.mode.reset();
    return;
  }
  LaunchMode m{};
  if (!policy::parse_launch_mode(v, m)) reject(o, src, v, "is not a launch mode");
  s.mode = m;
}

void parse_telemetry(Settings& s, std::string_view v, const Option&, std::string_view) {
  s.telemetry = std::string(v);
}

void parse_calibrate(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  if (v == "auto") s.calibrate = Calibrate::cached;
  else if (v == "always" || v == "1") s.calibrate = Calibrate::always;
  else if (v == "0" || v == "off") s.calibrate = Calibrate::skip;
  else reject(o, src, v, "is not a calibration setting");
}

void parse_log(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  const auto l = parse_log_level(v);
  if (!l) reject(o, src, v, "is not a log level");
  s.log = *l;
}

// The persistent queue's own limit (runtime/src/queue/persistent_queue.cpp).
constexpr std::uint32_t kMaxQueueSlots = 1u << 20;

void parse_queue_slots(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  const std::uint32_t x = u32(v, 2, kMaxQueueSlots, o, src);
  if ((x & (x - 1)) != 0) reject(o, src, v, "is not a power of two");
  s.queue_slots = x;
}

void parse_groups(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  s.persistent_groups = u32(v, 0, 65535, o, src);
}

void parse_wg(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  s.persistent_wg = u32(v, 0, 1024, o, src);
}

void parse_park(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  s.park_us = u32(v, 0, 60'000'000, o, src);
}

void parse_watchdog(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  s.watchdog_ms = u32(v, 10, 600'000, o, src);
}

void parse_startup(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  s.startup_ms = u32(v, 10, 3'600'000, o, src);
}

void parse_grace(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  s.grace_ms = u32(v, 10, 600'000, o, src);
}

void parse_autotune(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  if (v == "off") s.autotune = Autotune::off;
  else if (v == "race") s.autotune = Autotune::race;
  else if (v == "frozen") s.autotune = Autotune::frozen;
  else reject(o, src, v, "is not an autotune mode");
}

void parse_db(Settings& s, std::string_view v, const Option&, std::string_view) {
  s.autotune_db = std::string(v);
}

void parse_wg_list(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  std::vector<std::uint32_t> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = std::min(v.find(',', pos), v.size());
    const std::string_view item = v.substr(pos, comma - pos);
    if (item.empty()) reject(o, src, v, "has an empty entry");
    std::uint32_t x = 0;
    try {
      x = u32(item, 1, 1024, o, src);
    } catch (const Error&) {
      reject(o, src, v, "has an entry '" + std::string(item) + "' that is not a size in 1..1024");
    }
    for (std::uint32_t seen : out) {
      if (seen == x) reject(o, src, v, "lists " + std::to_string(x) + " twice");
    }
    out.push_back(x);
    if (out.size() > 16) reject(o, src, v, "has more than 16 entries");
    if (comma == v.size()) break;
    pos = comma + 1;
  }
  s.autotune_wg = std::move(out);
}

void parse_validate(Settings& s, std::string_view v, const Option& o, std::string_view src) {
  if (v == "1" || v == "on") s.validate = true;
  else if (v == "0" || v == "off") s.validate = false;
  else reject(o, src, v, "is not 0 or 1");
}

constexpr Option kTable[] = {
    {"SPOOL_DEVICE", "", "a device index (0..65535, as `spool devices` lists) or a name substring",
     "device Runtime::open_default() opens: index or case-insensitive name substring", parse_device},
    {"SPOOL_MODE", "", "launches | recorded | persistent | auto",
     "force every batch into one launch mode (auto: the policy decides)", parse_mode},
    {"SPOOL_TELEMETRY", "", "a file path (appended to; unwritable: a warning, no telemetry)",
     "append one verdict event per batch (JSON Lines, docs/telemetry.md)", parse_telemetry},
    {"SPOOL_CALIBRATE", "auto", "auto | always | 1 | 0 | off",
     "launch profile at device open: auto = stored profile else measure; always; 0 = skip",
     parse_calibrate},
    {"SPOOL_LOG", "warn", "error | warn | info | debug",
     "least severe diagnostic the default log handler prints (stderr)", parse_log},
    {"SPOOL_QUEUE_SLOTS", "1024", "a power of two in 2..1048576",
     "slots of the persistent work queue", parse_queue_slots},
    {"SPOOL_PERSISTENT_GROUPS", "0", "0..65535 (0: sized from the device)",
     "workgroups / blocks of the persistent kernel", parse_groups},
    {"SPOOL_PERSISTENT_WG", "0", "0..1024 (0: 8 on CPU devices, else the kernel's)",
     "workgroup size of the persistent kernel (Vulkan)", parse_wg},
    {"SPOOL_PARK_US", "2000", "0..60000000 microseconds (0: park as soon as the queue is empty)",
     "stop the persistent kernel after this long without work", parse_park},
    {"SPOOL_WATCHDOG_MS", "2000", "10..600000 milliseconds (0 is rejected: the watchdog cannot be off)",
     "persistent: a claimed item that runs this long (or queued work nobody claims) is a stall",
     parse_watchdog},
    {"SPOOL_STARTUP_MS", "30000", "10..3600000 milliseconds (0 is rejected)",
     "persistent: time a (re)launched kernel may take to start claiming (compilation, queued work)",
     parse_startup},
    {"SPOOL_GRACE_MS", "2000", "10..600000 milliseconds (0 is rejected)",
     "persistent: time a stalled kernel may take to stop before the device is declared hung", parse_grace},
    {"SPOOL_AUTOTUNE", "race", "off | race | frozen",
     "variant racing: off; race and record; frozen = use stored winners, write nothing",
     parse_autotune},
    {"SPOOL_AUTOTUNE_DB", "", "a file path or :memory:",
     "autotune store (default: $XDG_CACHE_HOME/spool/autotune.sqlite)", parse_db},
    {"SPOOL_AUTOTUNE_WG", "64,32,128,16,256",
     "1 to 16 distinct workgroup sizes in 1..1024, comma-separated",
     "workgroup sizes the autotuner races, in order", parse_wg_list},
    {"SPOOL_VALIDATE", "0", "0 | 1 | off | on",
     "guard bytes around every Spool buffer, checked after each batch (docs/validation.md)", parse_validate},
};

}  // namespace

std::span<const Option> table() noexcept { return kTable; }

const Option* find(std::string_view name) noexcept {
  for (const Option& o : kTable) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

void apply(Settings& s, std::string_view name, std::string_view value, std::string_view source) {
  const Option* o = find(name);
  if (o == nullptr) {
    SPOOL_THROW(Errc::invalid_argument,
                "'" + std::string(name) + "' is not a Spool option (see `spool options`)");
  }
  if (value.empty()) value = o->fallback;
  if (value.empty()) {
    // Options without a default: back to unset.
    Settings defaults;
    if (o->name == "SPOOL_DEVICE") s.device = defaults.device;
    else if (o->name == "SPOOL_MODE") s.mode = defaults.mode;
    else if (o->name == "SPOOL_TELEMETRY") s.telemetry = defaults.telemetry;
    else if (o->name == "SPOOL_AUTOTUNE_DB") s.autotune_db = defaults.autotune_db;
    return;
  }
  o->parse(s, value, *o, source);
}

std::optional<std::string> env_value(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

Settings from_environment() {
  Settings s;
  for (const Option& o : kTable) {
    if (auto v = env_value(o.name)) o.parse(s, *v, o, {});
  }
  return s;
}

}  // namespace spool::options
