// libFuzzer: spool::options::apply (the SPOOL_* table, runtime/src/options.cpp)
// on arbitrary name/value strings. The input is lines "NAME=VALUE" (bytes
// after the first '='; NUL and any other byte allowed), applied in order to
// one Settings. Properties: each apply either succeeds or throws
// spool::Error (anything else escapes and is a finding); a refusal of a
// known option names it; whether a value is accepted does not depend on the
// options applied before (the same line on default Settings agrees).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "spool/error.hpp"
#include "spool/options.hpp"

namespace opt = spool::options;

namespace {

bool accepted(opt::Settings& s, std::string_view name, std::string_view value) {
  try {
    opt::apply(s, name, value);
    return true;
  } catch (const spool::Error& e) {
    const std::string what = e.what();
    if (what.empty()) __builtin_trap();
    if (opt::find(name) != nullptr && what.find(name) == std::string::npos) __builtin_trap();
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  opt::Settings s;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const std::size_t eq = line.find('=');
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : line.substr(eq + 1);
    opt::Settings fresh;
    if (accepted(s, name, value) != accepted(fresh, name, value)) __builtin_trap();
    start = end + 1;
  }
  return 0;
}
