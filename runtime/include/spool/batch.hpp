// spool::Batch — n work items for one kernel. Each item has a grid size (the
// number of invocations of the kernel body) and arguments, checked against
// the kernel's argument layout when the item is added.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include "spool/alloc/pool_allocator.hpp"
#include "spool/args.hpp"
#include "spool/kernel.hpp"

namespace spool {

namespace backend {
class BufferImpl;
}

enum class Ordering : std::uint8_t {
  independent,  // items may run concurrently and in any order
  sequential,   // item i+1 sees every write of item i (a chain of steps)
};

class Batch {
 public:
  explicit Batch(Kernel kernel, Ordering ordering = Ordering::independent);

  // Appends one item. Throws spool::Error (invalid_argument) when the values
  // do not match the kernel's arguments in count, kind or size, when a buffer
  // is empty, or when grid is 0.
  Batch& add(std::uint32_t grid, std::span<const ArgValue> values);
  Batch& add(std::uint32_t grid, std::initializer_list<ArgValue> values) {
    return add(grid, std::span<const ArgValue>(values.begin(), values.size()));
  }
  void reserve(std::size_t items);

  const Kernel& kernel() const noexcept { return kernel_; }
  Ordering ordering() const noexcept { return ordering_; }
  std::size_t size() const noexcept { return grids_.size(); }
  bool empty() const noexcept { return grids_.empty(); }
  std::uint32_t grid(std::size_t i) const noexcept { return grids_[i]; }
  std::uint32_t max_grid() const noexcept { return max_grid_; }
  // The packed argument block of item i (kernel().arg_block_size() bytes).
  const std::byte* packed_args(std::size_t i) const noexcept {
    return args_.data() + i * stride_;
  }
  // The buffers the items refer to (each at least once).
  std::span<const std::shared_ptr<backend::BufferImpl>> buffers() const noexcept { return keep_alive_; }

 private:
  Kernel kernel_;
  Ordering ordering_;
  std::uint32_t stride_ = 0;
  std::uint32_t max_grid_ = 0;
  // Host-side batch storage comes from Spool's thread-local pool (alloc/).
  template <class T>
  using PoolVector = std::vector<T, alloc::PoolAllocator<T>>;
  PoolVector<std::uint32_t> grids_;
  PoolVector<std::byte> args_;
  // Keeps every referenced buffer alive until the batch is done.
  PoolVector<std::shared_ptr<backend::BufferImpl>> keep_alive_;
};

}  // namespace spool
