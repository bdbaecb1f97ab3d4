#include "spool/options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "spool/error.hpp"

namespace spool::options {

namespace {
constexpr Option kTable[] = {
    {"SPOOL_DEVICE", "", "device to open: index or case-insensitive name substring"},
    {"SPOOL_MODE", "", "force a launch mode: launches | recorded | persistent"},
    {"SPOOL_TELEMETRY", "", "append verdict events (JSON Lines) to this file"},
    {"SPOOL_CALIBRATE", "auto", "auto: stored profile else measure | always | 0: skip"},
    {"SPOOL_QUEUE_SLOTS", "1024", "persistent work-queue slots (power of two)"},
    {"SPOOL_PERSISTENT_GROUPS", "0", "persistent workgroups / blocks (0: from the device)"},
    {"SPOOL_PERSISTENT_WG", "0", "persistent workgroup size (0: 8 on CPU devices, else the kernel's)"},
    {"SPOOL_PARK_US", "2000", "park the persistent kernel after this idle time"},
    {"SPOOL_WATCHDOG_MS", "2000", "persistent: a claimed item that runs this long (or queued work nobody claims) is a stall"},
    {"SPOOL_STARTUP_MS", "30000", "persistent: time a (re)launched kernel may take to start claiming (pipeline compilation, queued work)"},
    {"SPOOL_GRACE_MS", "2000", "persistent: time a stalled kernel may take to stop before the device is declared hung"},
    {"SPOOL_AUTOTUNE", "race", "off | race | frozen"},
    {"SPOOL_AUTOTUNE_DB", "", "autotune store path (default: XDG cache)"},
    {"SPOOL_AUTOTUNE_WG", "64,32,128,16,256", "workgroup sizes the autotuner races, in order"},
    {"SPOOL_VALIDATE", "0", "1: guard bytes around every Spool buffer, checked after each batch (docs/validation.md)"},
};
}  // namespace

const Option* table(std::size_t* count) noexcept {
  *count = sizeof kTable / sizeof kTable[0];
  return kTable;
}

std::optional<std::string> get_set(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string get(const char* name) {
  if (auto v = get_set(name)) return *v;
  for (const Option& o : kTable) {
    if (std::strcmp(o.name, name) == 0) return o.fallback;
  }
  return {};
}

std::uint64_t get_u64(const char* name) {
  const std::string v = get(name);
  char* end = nullptr;
  errno = 0;
  const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || errno != 0 || *end != '\0' || v[0] == '-') {
    SPOOL_THROW(Errc::invalid_argument,
                std::string(name) + "='" + v + "' is not a non-negative integer");
  }
  return x;
}

std::uint32_t get_u32(const char* name) {
  const std::uint64_t v = get_u64(name);
  if (v > 0xffffffffu) {
    SPOOL_THROW(Errc::invalid_argument, std::string(name) + "=" + std::to_string(v) + " exceeds 2^32-1");
  }
  return static_cast<std::uint32_t>(v);
}

}  // namespace spool::options
