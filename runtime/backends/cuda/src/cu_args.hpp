// Argument layouts of the built-in CUDA kernels (declared, not reflected:
// CUDA has no SPIR-V-like reflection) and their validation. Host-only logic,
// tested without a GPU.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spool/args.hpp"
#include "spool/backend/backend.hpp"

namespace spool::cuda {

struct ArgLayout {
  std::string name;                 // kernel name
  std::vector<ArgSpec> args;        // in declaration order
  std::uint32_t block_size = 0;     // sizeof the kernel's Args struct
};

// The declared layouts of the built-in kernels (from spool_cuda_abi.hpp).
const std::vector<ArgLayout>& builtin_layouts();
// nullptr when unknown.
const ArgLayout* find_layout(std::string_view kernel);

// Throws spool::Error(invalid_argument) naming the kernel and argument when
// a layout is inconsistent: wrong size for its kind, misaligned, overlapping,
// past the block, or a block larger than max_block bytes (`limit`: what that
// limit is, "a queue slot" for built-ins) or that does not match the compiled
// struct size (compiled_size, 0: unchecked).
void validate_layout(const ArgLayout& l, std::uint32_t max_block, std::uint32_t compiled_size,
                     std::string_view limit = "a queue slot");

// Throws spool::Error(invalid_argument) for an item the device cannot run:
// grid 0 or above max_grid, a first index (begin) not below its grid, or
// missing argument bytes.
void check_items(std::string_view kernel, std::span<const backend::PackedItem> items,
                 std::uint32_t block_size, std::uint64_t max_grid);

}  // namespace spool::cuda
