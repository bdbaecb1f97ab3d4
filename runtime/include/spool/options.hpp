// Spool's SPOOL_* environment options: one typed table (runtime/src/options.cpp)
// that the core and every backend read. Each value is parsed and range-checked;
// a bad one is a spool::Error naming the variable, the value and what is
// accepted. An unset or empty variable means its default. Documented in
// docs/options.md and printed by `spool options`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spool/log.hpp"
#include "spool/types.hpp"

namespace spool::options {

enum class Calibrate : std::uint8_t {
  cached,  // "auto": the profile stored for this device + driver, else measure and store
  always,  // "always" | "1": measure at every device open
  skip,    // "0" | "off": never measure (launches only until batches teach the model)
};
enum class Autotune : std::uint8_t { off, race, frozen };

// Every option, parsed. Default-constructed: the defaults of the table.
struct Settings {
  std::optional<std::string> device;     // SPOOL_DEVICE: index or name substring
  std::optional<LaunchMode> mode;        // SPOOL_MODE: force a mode (unset or "auto": the policy)
  std::optional<std::string> telemetry;  // SPOOL_TELEMETRY: JSON Lines file
  Calibrate calibrate = Calibrate::cached;
  LogLevel log = LogLevel::warn;
  std::uint32_t queue_slots = 1024;       // power of two
  std::uint32_t persistent_groups = 0;    // 0: from the device
  std::uint32_t persistent_wg = 0;        // 0: backend default
  std::uint32_t park_us = 2000;
  std::uint32_t watchdog_ms = 2000;
  std::uint32_t startup_ms = 30000;
  std::uint32_t grace_ms = 2000;
  Autotune autotune = Autotune::race;
  std::optional<std::string> autotune_db;  // unset: autotune::Store::default_path()
  std::vector<std::uint32_t> autotune_wg{64, 32, 128, 16, 256};
  bool validate = false;  // SPOOL_VALIDATE: guarded buffers
};

struct Option {
  std::string_view name;      // the environment variable
  std::string_view fallback;  // the default, as text ("" = unset)
  std::string_view accepted;  // what values are accepted, for messages and `spool options`
  std::string_view help;      // what it does
  // Parses `value` into `s`, or throws spool::Error(invalid_argument).
  void (*parse)(Settings& s, std::string_view value, const Option& self, std::string_view source);
};

// The table, in the order `spool options` prints it.
std::span<const Option> table() noexcept;
// The row of `name`; nullptr when Spool has no such option.
const Option* find(std::string_view name) noexcept;

// Parses `value` as option `name` into `s`. An empty value resets the option
// to its default. Throws spool::Error(invalid_argument) for an unknown name or
// a bad value: "<source>='<value>' <why>; accepted: <accepted>". `source` is
// what the message calls the setting (default: the variable's name), e.g.
// "DeviceOptions::autotune" for a value given in code.
void apply(Settings& s, std::string_view name, std::string_view value,
           std::string_view source = {});

// The defaults with every SPOOL_* variable set in the environment applied.
// Throws on the first bad value (in table order).
Settings from_environment();

// The raw environment text of `name`; nullopt when unset or empty.
std::optional<std::string> env_value(std::string_view name);

}  // namespace spool::options
