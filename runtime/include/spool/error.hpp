// spool::Error: the one exception type of the runtime. It says what went
// wrong, which call failed, the native error name (VkResult / cudaError_t) and
// where in Spool it was raised.
#pragma once

#include <stdexcept>
#include <string>

namespace spool {

enum class Errc {
  invalid_argument,  // caller passed something wrong (bad args, unknown kernel, ...)
  not_supported,     // the device or kernel cannot do this (e.g. persistent without ABI)
  backend,           // a Vulkan/CUDA call failed
  device_lost,       // the device is gone; pending work is failed
  timeout,           // waited too long (hung persistent kernel, ...)
  shut_down,         // the runtime/device is shutting down
};

class Error : public std::runtime_error {
 public:
  Error(Errc code, std::string what, std::string call = {}, std::string native = {},
        const char* file = nullptr, int line = 0);

  Errc code() const noexcept { return code_; }
  const std::string& call() const noexcept { return call_; }
  const std::string& native() const noexcept { return native_; }  // e.g. "VK_ERROR_DEVICE_LOST"
  const char* file() const noexcept { return file_; }
  int line() const noexcept { return line_; }

 private:
  Errc code_;
  std::string call_;
  std::string native_;
  const char* file_;
  int line_;
};

const char* to_string(Errc e) noexcept;

}  // namespace spool

#define SPOOL_THROW(code, msg) throw ::spool::Error((code), (msg), {}, {}, __FILE__, __LINE__)
