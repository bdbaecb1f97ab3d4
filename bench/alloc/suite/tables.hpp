// The suite's Markdown tables (medians over repetitions).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "runner.hpp"

namespace spool::bench {

double median(std::vector<double> v);
std::string fmt(const char* f, double v);

// Every run of one (row, allocator).
struct Cell {
  std::vector<RunResult> runs;
  std::vector<double> field(double RunResult::*m) const {
    std::vector<double> v;
    for (const auto& r : runs) {
      if (r.ok) v.push_back(r.*m);
    }
    return v;
  }
  std::vector<double> rss_mib(std::uint64_t RunResult::*m) const {
    std::vector<double> v;
    for (const auto& r : runs) {
      if (r.ok) v.push_back(static_cast<double>(r.*m) / 1024.0);
    }
    return v;
  }
  bool any_ok() const {
    return std::any_of(runs.begin(), runs.end(), [](const RunResult& r) { return r.ok; });
  }
};

// cells[row][allocator]
void print_tables(const std::vector<std::string>& rows, const std::vector<Allocator>& allocs,
                  const std::vector<std::vector<Cell>>& cells, int reps, double scale, int idle_ms);

}  // namespace spool::bench
