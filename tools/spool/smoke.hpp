// Smoke batches of the built-in kernels for `spool run`: arguments that make
// every item independent, and a check of the results against the CPU.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "spool/spool.hpp"

namespace spool::cli {

struct SmokeBatch {
  Batch batch;
  std::vector<Buffer> buffers;             // kept alive until checked
  std::function<std::string()> check;      // empty string: every result matches the CPU
  std::string what;                        // one line: what the items compute
};

// The kernels smoke_batch() knows, in the order the built-ins list them.
std::vector<std::string> smoke_kernels();
// A batch of `items` items of `grid` invocations each of built-in `kernel`.
// Throws spool::Error(invalid_argument) for a kernel it does not know.
SmokeBatch smoke_batch(Device& dev, const std::string& kernel, std::uint32_t items, std::uint32_t grid);

}  // namespace spool::cli
