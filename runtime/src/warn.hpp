// Shorthand for the runtime's core: a problem it recovered from (a store it
// could not use, stale autotune rows, ...) goes to the log at warning level
// (spool::set_log_handler, SPOOL_LOG).
#pragma once

#include <string_view>

namespace spool::detail {

// spool::log(LogLevel::warn, message). Thread-safe.
void warn(std::string_view message);

}  // namespace spool::detail
