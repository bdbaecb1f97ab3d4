#include "workload.hpp"

#include <algorithm>
#include <cstring>
#include <span>

#include "bench.hpp"

namespace bench {

namespace {

constexpr std::uint32_t kSaxpyGrid = 256;  // floats per saxpy item
constexpr float kSaxpyA = 2.0f;            // y += 2 * x with x = 1: exact in float

}  // namespace

Workload::Workload(spool::Device& dev, const std::string& kernel, spool::Ordering ordering,
                   std::uint32_t capacity)
    : name_(kernel), ordering_(ordering), capacity_(std::max<std::uint32_t>(capacity, 1)) {
  if (name_ == "tally") {
    grid_ = 1;
    kernel_ = dev.kernel("tally");
    counts_ = dev.buffer(std::uint64_t{capacity_} * 4);
    std::memset(counts_.data(), 0, counts_.size());
    expected_.assign(capacity_, 0);
  } else if (name_ == "saxpy") {
    grid_ = kSaxpyGrid;
    kernel_ = dev.kernel("saxpy");
    // Sequential items form one chain over one slice; independent items each
    // get their own slice, so no two items write the same floats.
    const std::uint32_t slices = ordering_ == spool::Ordering::sequential ? 1 : capacity_;
    x_ = dev.buffer(std::uint64_t{kSaxpyGrid} * 4);
    y_ = dev.buffer(std::uint64_t{slices} * kSaxpyGrid * 4);
    std::ranges::fill(x_.as<float>(), 1.0f);
    std::memset(y_.data(), 0, y_.size());
    expected_.assign(slices, 0);
  } else {
    throw Error("unknown kernel '" + name_ + "' (the benchmark knows tally and saxpy)");
  }
}

const char* Workload::ordering_name() const noexcept {
  return ordering_ == spool::Ordering::sequential ? "sequential" : "independent";
}

spool::Batch Workload::build(std::uint32_t n) const {
  if (n > capacity_) {
    throw Error("workload " + name_ + ": a batch of " + std::to_string(n) + " items exceeds the " +
                std::to_string(capacity_) + " its buffers were sized for");
  }
  spool::Batch b(kernel_, ordering_);
  b.reserve(n);
  if (name_ == "tally") {
    for (std::uint32_t i = 0; i < n; ++i) b.add(1, {spool::arg(counts_), spool::arg(i)});
  } else if (ordering_ == spool::Ordering::sequential) {
    for (std::uint32_t i = 0; i < n; ++i) {
      b.add(kSaxpyGrid, {spool::arg(x_), spool::arg(y_), spool::arg(kSaxpyA), spool::arg(kSaxpyGrid)});
    }
  } else {
    for (std::uint32_t i = 0; i < n; ++i) {
      b.add(kSaxpyGrid, {spool::arg(x_), spool::arg(y_, std::uint64_t{i} * kSaxpyGrid * 4),
                         spool::arg(kSaxpyA), spool::arg(kSaxpyGrid)});
    }
  }
  return b;
}

void Workload::ran(std::uint32_t n) {
  if (name_ == "saxpy" && ordering_ == spool::Ordering::sequential) {
    expected_[0] += n;
    touched_ = std::max(touched_, 1u);
    return;
  }
  for (std::uint32_t i = 0; i < n; ++i) ++expected_[i];
  touched_ = std::max(touched_, n);
}

void Workload::reset() {
  if (name_ == "tally") {
    std::memset(counts_.data(), 0, std::size_t{touched_} * 4);
  } else {
    std::memset(y_.data(), 0, std::size_t{touched_} * kSaxpyGrid * 4);
  }
  std::fill_n(expected_.begin(), touched_, 0u);
  touched_ = 0;
}

std::string Workload::verify() const {
  if (name_ == "tally") {
    const auto counts = counts_.as<const std::uint32_t>();
    for (std::uint32_t i = 0; i < touched_; ++i) {
      if (counts[i] != expected_[i]) {
        return "tally counter " + std::to_string(i) + " is " + std::to_string(counts[i]) + ", expected " +
               std::to_string(expected_[i]);
      }
    }
    return {};
  }
  const auto y = y_.as<const float>();
  for (std::uint32_t s = 0; s < touched_; ++s) {
    const float want = kSaxpyA * static_cast<float>(expected_[s]);
    for (std::uint32_t j = 0; j < kSaxpyGrid; ++j) {
      const float got = y[std::size_t{s} * kSaxpyGrid + j];
      if (got != want) {
        return "saxpy y[" + std::to_string(s) + "*256+" + std::to_string(j) + "] is " + std::to_string(got) +
               ", expected " + std::to_string(want);
      }
    }
  }
  return {};
}

}  // namespace bench
