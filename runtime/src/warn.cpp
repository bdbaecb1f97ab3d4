#include "warn.hpp"

#include <string>

#include "spool/log.hpp"

namespace spool::detail {

void warn(std::string_view message) { log(LogLevel::warn, message); }

}  // namespace spool::detail
