// libFuzzer: the telemetry JSON Lines reader behind `spool telemetry`
// (tools/spool/telemetry_reader.cpp) on arbitrary text. Properties: strict
// reading either returns events or throws TelemetryError (nothing else);
// lenient reading (skip_invalid) never throws and accounts for every line;
// both agree: the same events when the strict read succeeds, and the first
// skipped line is the one the strict read refused.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "telemetry_reader.hpp"

namespace cli = spool::cli;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  std::istringstream lenient_in(text);
  const cli::TelemetryLog lenient = cli::read_telemetry(lenient_in, "fuzz", /*skip_invalid=*/true);
  if (lenient.events.size() + lenient.skipped.size() > lenient.lines) __builtin_trap();
  for (const auto& e : lenient.events) {
    if (e.line == 0 || e.line > lenient.lines) __builtin_trap();
  }
  for (const auto& s : lenient.skipped) {
    if (s.line() == 0 || s.line() > lenient.lines || s.reason().empty()) __builtin_trap();
  }

  std::istringstream strict_in(text);
  try {
    const cli::TelemetryLog strict = cli::read_telemetry(strict_in, "fuzz");
    if (!lenient.skipped.empty() || strict.events.size() != lenient.events.size()) __builtin_trap();
    if (strict.lines != lenient.lines) __builtin_trap();
  } catch (const cli::TelemetryError& e) {
    if (lenient.skipped.empty() || lenient.skipped.front().line() != e.line()) __builtin_trap();
    if (e.source() != "fuzz") __builtin_trap();
  }

  // One line on its own: an event or a TelemetryError, never anything else.
  if (text.find('\n') == std::string::npos) {
    try {
      (void)cli::parse_event(text, "fuzz", 1);
    } catch (const cli::TelemetryError&) {
    }
  }
  return 0;
}
