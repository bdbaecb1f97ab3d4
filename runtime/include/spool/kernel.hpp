// spool::Kernel — a loaded kernel: its one-item-per-launch variant, its
// persistent variant (when it follows the Spool ABI) and its argument layout.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "spool/args.hpp"

namespace spool {

namespace backend {
class KernelImpl;
}

class Kernel {
 public:
  Kernel() = default;
  explicit Kernel(std::shared_ptr<backend::KernelImpl> impl);

  const std::string& name() const noexcept;
  const std::string& variant() const noexcept;      // e.g. "wg=64"
  const std::string& source_hash() const noexcept;  // changes when the kernel source changes
  std::span<const ArgSpec> args() const noexcept;
  std::uint32_t arg_block_size() const noexcept;
  bool has_persistent() const noexcept;
  // Why the persistent variant is unavailable (empty when it is available).
  const std::string& persistent_unavailable_reason() const noexcept;
  explicit operator bool() const noexcept { return impl_ != nullptr; }

  const std::shared_ptr<backend::KernelImpl>& impl() const noexcept { return impl_; }

 private:
  std::shared_ptr<backend::KernelImpl> impl_;
};

}  // namespace spool
