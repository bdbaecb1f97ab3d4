// Diagnostics: every message the library emits goes through one handler that
// the application may replace. The library never writes to stderr itself;
// the default handler does, for messages at or above the threshold.
//
//   spool::set_log_handler([](spool::LogLevel l, std::string_view msg) { ... });
//   SPOOL_LOG=error|warn|info|debug   (default warn; docs/options.md)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace spool {

// Most severe first: a threshold of `warn` passes error and warn.
enum class LogLevel : std::uint8_t { error, warn, info, debug };

const char* to_string(LogLevel l) noexcept;
// "error", "warn", "info", "debug" (exactly); nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view s) noexcept;

// Receives each message that passes the threshold. Called from whichever
// thread raised it, so it must be thread-safe; it must not throw. A handler
// that was just replaced may still be finishing a call on another thread.
using LogHandler = std::function<void(LogLevel level, std::string_view message)>;

// Installs `h` and returns the previous handler. An empty handler restores
// the default one, which writes "spool: <level>: <message>\n" to stderr.
LogHandler set_log_handler(LogHandler h);

// The threshold: set_log_level's value if one was set, else SPOOL_LOG, else
// warn. (A malformed SPOOL_LOG is rejected when a Runtime is created; here it
// counts as warn.)
LogLevel log_level() noexcept;
void set_log_level(LogLevel l) noexcept;
void reset_log_level() noexcept;  // back to SPOOL_LOG
bool log_enabled(LogLevel l) noexcept;

// Delivers `message` to the handler when `level` passes the threshold.
void log(LogLevel level, std::string_view message) noexcept;

}  // namespace spool
