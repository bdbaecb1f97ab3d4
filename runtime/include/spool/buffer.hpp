// spool::Buffer — a device buffer. Host-visible buffers can be read and
// written directly through data(); kernels receive buffers by device address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace spool {

namespace backend {
class BufferImpl;
}

enum class Memory : std::uint8_t {
  host_visible,  // mapped, coherent: the host reads and writes it directly
  device_local,  // fastest for the device; no host pointer
};

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::shared_ptr<backend::BufferImpl> impl);

  std::uint64_t size() const noexcept;
  bool host_visible() const noexcept;
  void* data() const noexcept;  // nullptr unless host visible
  std::uint64_t device_address() const noexcept;
  explicit operator bool() const noexcept { return impl_ != nullptr; }

  // Typed views of a host-visible buffer; throw spool::Error otherwise.
  template <class T>
  std::span<T> as() const {
    return {static_cast<T*>(checked_data()), static_cast<std::size_t>(size() / sizeof(T))};
  }

  const std::shared_ptr<backend::BufferImpl>& impl() const noexcept { return impl_; }

 private:
  void* checked_data() const;
  std::shared_ptr<backend::BufferImpl> impl_;
};

}  // namespace spool
