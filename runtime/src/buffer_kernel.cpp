// spool::Buffer and spool::Kernel: thin handles over the backend objects.
#include "spool/backend/backend.hpp"
#include "spool/buffer.hpp"
#include "spool/error.hpp"
#include "spool/kernel.hpp"

namespace spool {

Buffer::Buffer(std::shared_ptr<backend::BufferImpl> impl) : impl_(std::move(impl)) {}
std::uint64_t Buffer::size() const noexcept { return impl_ ? impl_->size() : 0; }
bool Buffer::host_visible() const noexcept { return impl_ && impl_->host_ptr() != nullptr; }
void* Buffer::data() const noexcept { return impl_ ? impl_->host_ptr() : nullptr; }
std::uint64_t Buffer::device_address() const noexcept {
  return impl_ ? impl_->device_address() : 0;
}
void* Buffer::checked_data() const {
  if (!impl_) SPOOL_THROW(Errc::invalid_argument, "empty spool::Buffer has no data");
  void* p = impl_->host_ptr();
  if (p == nullptr) {
    SPOOL_THROW(Errc::invalid_argument,
                "buffer is device_local: it has no host pointer (allocate it host_visible)");
  }
  return p;
}

Kernel::Kernel(std::shared_ptr<backend::KernelImpl> impl) : impl_(std::move(impl)) {}
const std::string& Kernel::name() const noexcept { return impl_->desc().name; }
const std::string& Kernel::variant() const noexcept { return impl_->desc().variant; }
const std::string& Kernel::source_hash() const noexcept { return impl_->desc().source_hash; }
std::span<const ArgSpec> Kernel::args() const noexcept { return impl_->desc().args; }
std::uint32_t Kernel::arg_block_size() const noexcept { return impl_->desc().arg_block_size; }
bool Kernel::has_persistent() const noexcept { return impl_->desc().has_persistent; }
const std::string& Kernel::persistent_unavailable_reason() const noexcept {
  return impl_->desc().persistent_unavailable_reason;
}

}  // namespace spool
