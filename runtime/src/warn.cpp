#include "warn.hpp"

#include <cstdio>
#include <string>

namespace spool::detail {

void warn(std::string_view message) {
  // One fputs per line: stdio locks the stream, so lines never interleave.
  const std::string line = "spool: warning: " + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace spool::detail
