// spool::Batch: argument checking and packing.
#include "spool/batch.hpp"

#include <cstring>
#include <string>

#include "spool/backend/backend.hpp"
#include "spool/buffer.hpp"
#include "spool/error.hpp"

namespace spool {

namespace {

const char* value_kind(const ArgValue& v) {
  switch (v.index()) {
    case 0: return "buffer";
    case 1: return "u32";
    case 2: return "i32";
    default: return "f32";
  }
}

bool kind_matches(ArgKind k, const ArgValue& v) {
  switch (k) {
    case ArgKind::buffer:
    case ArgKind::bound_buffer: return v.index() == 0;
    case ArgKind::u32: return v.index() == 1;
    case ArgKind::i32: return v.index() == 2;
    case ArgKind::f32: return v.index() == 3;
  }
  return false;
}

}  // namespace

Batch::Batch(Kernel kernel, Ordering ordering) : kernel_(std::move(kernel)), ordering_(ordering) {
  if (!kernel_) SPOOL_THROW(Errc::invalid_argument, "Batch needs a loaded kernel (got an empty spool::Kernel)");
  // Round the stride up to 8 bytes so device addresses stay aligned.
  stride_ = (kernel_.arg_block_size() + 7u) & ~7u;
}

void Batch::reserve(std::size_t items) {
  grids_.reserve(items);
  args_.reserve(items * stride_);
}

Batch& Batch::add(std::uint32_t grid, std::span<const ArgValue> values) {
  const auto specs = kernel_.args();
  const std::string where = "kernel '" + kernel_.name() + "' item " + std::to_string(grids_.size());
  if (grid == 0) SPOOL_THROW(Errc::invalid_argument, where + ": grid must be at least 1");
  if (values.size() != specs.size()) {
    SPOOL_THROW(Errc::invalid_argument, where + ": expected " + std::to_string(specs.size()) +
                                            " arguments, got " + std::to_string(values.size()));
  }
  const std::size_t base = args_.size();
  args_.resize(base + stride_);
  std::byte* block = args_.data() + base;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ArgSpec& s = specs[i];
    const ArgValue& v = values[i];
    if (!kind_matches(s.kind, v)) {
      args_.resize(base);
      SPOOL_THROW(Errc::invalid_argument, where + ": argument " + std::to_string(i) + " ('" +
                                              s.name + "') must be " + to_string(s.kind) +
                                              ", got " + value_kind(v));
    }
    if (s.offset + s.size > stride_) {
      args_.resize(base);
      SPOOL_THROW(Errc::invalid_argument, where + ": argument layout overflows the argument block");
    }
    if (s.kind == ArgKind::buffer || s.kind == ArgKind::bound_buffer) {
      const BufferArg& b = std::get<BufferArg>(v);
      if (b.buffer == nullptr || !*b.buffer) {
        args_.resize(base);
        SPOOL_THROW(Errc::invalid_argument, where + ": argument " + std::to_string(i) + " ('" +
                                                s.name + "') is an empty buffer");
      }
      if (b.offset >= b.buffer->size()) {
        args_.resize(base);
        SPOOL_THROW(Errc::invalid_argument,
                    where + ": argument " + std::to_string(i) + " ('" + s.name + "') offset " +
                        std::to_string(b.offset) + " is past the buffer's " +
                        std::to_string(b.buffer->size()) + " bytes");
      }
      const auto& impl = b.buffer->impl();
      if (s.kind == ArgKind::buffer) {
        if (b.buffer->device_address() == 0) {
          args_.resize(base);
          SPOOL_THROW(Errc::invalid_argument,
                      where + ": argument " + std::to_string(i) + " ('" + s.name +
                          "') is a buffer without a device address (a wrapped VkBuffer needs "
                          "VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)");
        }
        const std::uint64_t addr = b.buffer->device_address() + b.offset;
        std::memcpy(block + s.offset, &addr, sizeof addr);
      } else {
        const std::uint64_t rec[2] = {reinterpret_cast<std::uintptr_t>(impl.get()), b.offset};
        std::memcpy(block + s.offset, rec, sizeof rec);
      }
      bool held = false;
      for (std::size_t k = keep_alive_.size(); k > 0 && k + 8 > keep_alive_.size(); --k) {
        if (keep_alive_[k - 1].get() == impl.get()) held = true;
      }
      if (!held) keep_alive_.push_back(impl);
    } else {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (!std::is_same_v<T, BufferArg>) std::memcpy(block + s.offset, &x, sizeof x);
          },
          v);
    }
  }
  grids_.push_back(grid);
  if (grid > max_grid_) max_grid_ = grid;
  return *this;
}

}  // namespace spool
