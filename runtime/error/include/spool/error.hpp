// spool::Error: the one exception type of Spool. It says what went wrong,
// which call failed, the native error name (VkResult / cudaError_t / SQLite
// result) and where in Spool it was raised. Every module's errors derive from
// it (spool::autotune::Error for the store); catching `const spool::Error&`
// catches them all. The one exception: running out of memory is
// std::bad_alloc, as the C++ allocator requirements demand of spool::alloc.
// Its own target (spool::error), so that modules below the runtime
// (alloc, autotune) can throw it.
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
  storage,           // the autotune store (an SQLite file) failed
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

 protected:
  // For derived errors that compose what() themselves (`message` is used as is).
  struct Composed {};
  Error(Composed, Errc code, const std::string& message, std::string call, std::string native = {},
        const char* file = nullptr, int line = 0);

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
