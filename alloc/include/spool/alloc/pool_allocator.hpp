// std::allocator-compatible adaptor over the pool allocator. Stateless: all
// instances compare equal, memory may be freed through any of them.
#pragma once

#include <cstddef>
#include <limits>
#include <new>

#include "spool/alloc/alloc.hpp"

namespace spool::alloc {

template <class T>
class PoolAllocator {
 public:
  using value_type = T;
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;

  constexpr PoolAllocator() noexcept = default;
  template <class U>
  constexpr PoolAllocator(const PoolAllocator<U>& /*other*/) noexcept {}  // NOLINT

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    if constexpr (alignof(T) <= 16) {
      return static_cast<T*>(spool::alloc::allocate(n * sizeof(T)));
    } else {
      return static_cast<T*>(spool::alloc::allocate_aligned(n * sizeof(T), alignof(T)));
    }
  }
  void deallocate(T* p, std::size_t /*n*/) noexcept { spool::alloc::deallocate(p); }

  template <class U>
  friend constexpr bool operator==(const PoolAllocator&, const PoolAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace spool::alloc
