// The one place the runtime's core reports a problem it recovered from
// (a store it could not use, stale autotune rows, ...). Today it writes one
// line to stderr; when the application-replaceable log handler lands
// (spool::set_log_handler), only warn.cpp changes.
#pragma once

#include <string_view>

namespace spool::detail {

// "spool: warning: <message>" on one line. Thread-safe.
void warn(std::string_view message);

}  // namespace spool::detail
