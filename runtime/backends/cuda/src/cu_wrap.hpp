// Application memory as Spool buffers (spool::cuda::wrap_device_pointer):
// what CUDA says about a pointer, the checks on it (host-only, tested without
// a GPU), and the non-owning buffer.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>

#include "spool/backend/backend.hpp"

namespace spool::cuda {

// What CUDA reports about a pointer (cudaPointerGetAttributes, and the
// allocation containing it from cuMemGetAddressRange).
struct PointerFacts {
  cudaMemoryType type = cudaMemoryTypeUnregistered;
  int device = -1;                     // device of a cudaMemoryTypeDevice allocation
  std::uint64_t device_pointer = 0;    // the device address of this pointer (0: none)
  std::uint64_t alloc_base = 0;        // the allocation containing it ...
  std::uint64_t alloc_bytes = 0;       // ... and its size (0: unknown)
};

// Queries CUDA (the current device must be `ordinal`'s). Never throws for an
// unknown pointer: it is reported as unregistered.
PointerFacts query_pointer(const void* p);

// Throws spool::Error(invalid_argument) when [ptr, ptr + bytes) is not
// memory device `ordinal` can use as a kernel argument: null, 0 bytes, not a
// CUDA allocation, another device's memory, past the end of its allocation;
// or when `host` (optional) is not the host view of the same memory
// (`host_facts`: query_pointer(host)).
void check_wrap(int ordinal, const void* ptr, std::uint64_t bytes, const PointerFacts& facts,
                const void* host, const PointerFacts* host_facts);

// A buffer over application memory. Spool never frees it; `keep_alive`
// (optional) is released with the last reference to the buffer.
class WrappedBuffer final : public backend::BufferImpl {
 public:
  WrappedBuffer(void* device_ptr, std::uint64_t bytes, void* host, std::shared_ptr<void> keep_alive)
      : dev_(device_ptr), bytes_(bytes), host_(host), keep_alive_(std::move(keep_alive)) {}
  std::uint64_t size() const noexcept override { return bytes_; }
  void* host_ptr() const noexcept override { return host_; }
  std::uint64_t device_address() const noexcept override {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(dev_));
  }

 private:
  void* dev_;
  std::uint64_t bytes_;
  void* host_;
  std::shared_ptr<void> keep_alive_;
};

}  // namespace spool::cuda
