// Kernel arguments: a kernel's reflected (or declared) argument layout, and
// the values a work item passes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace spool {

class Buffer;

// buffer: a device address (buffer reference / device pointer), 8 bytes.
// bound_buffer: a buffer bound to a descriptor (a storage buffer of a SPIR-V
//   module that does not follow the Spool ABI); packed as 16 bytes
//   {BufferImpl*, byte offset} that the backend resolves when the item runs.
enum class ArgKind : std::uint8_t { buffer, u32, i32, f32, bound_buffer };
const char* to_string(ArgKind k) noexcept;

struct ArgSpec {
  std::string name;
  ArgKind kind = ArgKind::u32;
  std::uint32_t offset = 0;  // byte offset in the packed argument block
  std::uint32_t size = 0;    // bytes: 8 for buffers (device address), 16 bound, 4 for scalars
};

// A buffer argument: a device buffer, optionally a byte offset into it.
struct BufferArg {
  const Buffer* buffer = nullptr;
  std::uint64_t offset = 0;
};

using ArgValue = std::variant<BufferArg, std::uint32_t, std::int32_t, float>;

inline ArgValue arg(const Buffer& b, std::uint64_t offset = 0) { return BufferArg{&b, offset}; }
inline ArgValue arg(std::uint32_t v) { return v; }
inline ArgValue arg(std::int32_t v) { return v; }
inline ArgValue arg(float v) { return v; }

}  // namespace spool
