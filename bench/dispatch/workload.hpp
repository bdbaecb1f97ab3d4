// The work the benchmark gives Spool: the built-in kernels tally (grid 1,
// tiny items) and saxpy (grid 256: 256-float items), independent or
// sequential. A Workload owns the buffers its batches use, sized for the
// largest batch it was made for, builds batches as an application would,
// and checks the results against what it expects from the batches it built.
#pragma once

#include <spool/spool.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

class Workload {
 public:
  // kernel: "tally" or "saxpy"; capacity: the most items one batch (or the
  // batches built between two reset() calls) may have. Throws bench::Error
  // for an unknown kernel.
  Workload(spool::Device& dev, const std::string& kernel, spool::Ordering ordering,
           std::uint32_t capacity);

  const std::string& kernel_name() const noexcept { return name_; }
  const char* ordering_name() const noexcept;
  spool::Ordering ordering() const noexcept { return ordering_; }
  std::uint32_t grid() const noexcept { return grid_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  const spool::Kernel& kernel() const noexcept { return kernel_; }

  // A batch of n items (n <= capacity; bench::Error otherwise), built as an
  // application would (this is what the benchmark times as building).
  spool::Batch build(std::uint32_t n) const;
  // Adds what a batch of n items built by build() does to the expected
  // result; call it (outside timed regions) for every batch that ran.
  void ran(std::uint32_t n);
  // Clears the results and the expectation (outside timed regions).
  void reset();
  // Empty when the buffers hold exactly what the batches built since the
  // last reset() should have produced; otherwise what differs, first place.
  std::string verify() const;

 private:
  std::string name_;
  spool::Ordering ordering_;
  std::uint32_t grid_ = 1;
  std::uint32_t capacity_ = 0;
  spool::Kernel kernel_;
  spool::Buffer counts_;  // tally: one counter per item
  spool::Buffer x_, y_;   // saxpy: x shared, y one 256-float slice per item (sequential: one slice)
  // Times each item slot (tally counter, saxpy slice) was applied.
  std::vector<std::uint32_t> expected_;
  std::uint32_t touched_ = 0;  // slots written since the last reset()
};

}  // namespace bench
