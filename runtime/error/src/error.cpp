#include "spool/error.hpp"

#include <string>

namespace spool {

namespace {
std::string compose(Errc code, const std::string& what, const std::string& call,
                    const std::string& native, const char* file, int line) {
  std::string s = "spool: ";
  s += what;
  if (!call.empty()) s += " [call: " + call + "]";
  if (!native.empty()) s += " [" + native + "]";
  if (file != nullptr) s += " (" + std::string(file) + ":" + std::to_string(line) + ")";
  s += " {";
  s += to_string(code);
  s += "}";
  return s;
}
}  // namespace

Error::Error(Errc code, std::string what, std::string call, std::string native, const char* file,
             int line)
    : std::runtime_error(compose(code, what, call, native, file, line)),
      code_(code),
      call_(std::move(call)),
      native_(std::move(native)),
      file_(file),
      line_(line) {}

Error::Error(Composed, Errc code, const std::string& message, std::string call, std::string native,
             const char* file, int line)
    : std::runtime_error(message),
      code_(code),
      call_(std::move(call)),
      native_(std::move(native)),
      file_(file),
      line_(line) {}

const char* to_string(Errc e) noexcept {
  switch (e) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_supported: return "not_supported";
    case Errc::backend: return "backend";
    case Errc::device_lost: return "device_lost";
    case Errc::timeout: return "timeout";
    case Errc::shut_down: return "shut_down";
    case Errc::storage: return "storage";
  }
  return "unknown";
}

}  // namespace spool
