// The `recorded` mode's cache decision, separated from the CUDA graph calls
// so it is tested without a GPU. A cached graph is keyed by its shape (kernel,
// ordering, block size and every item's grid and first index: the graph's
// topology, launch dimensions and the kernel parameters besides the
// arguments) and remembers the argument bytes it was last run with:
//   same shape, same arguments  -> replay the instantiated graph as it is
//   same shape, other arguments -> update the kernel nodes in place
//                                  (cudaGraphExecKernelNodeSetParams), replay
//   no entry with this shape    -> build + instantiate a new graph (into a
//                                  free entry, else the least recently used)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "spool/backend/backend.hpp"

namespace spool::cuda {

enum class GraphAction { replay, update, rebuild };
const char* to_string(GraphAction a) noexcept;

struct GraphShape {
  const void* kernel = nullptr;
  bool sequential = false;
  std::uint32_t block = 0;
  std::vector<std::uint32_t> grids;
  std::vector<std::uint32_t> begins;  // each item's first index (PackedItem::begin)
  bool operator==(const GraphShape&) const = default;
};

class GraphPlanner {
 public:
  explicit GraphPlanner(std::size_t max_entries) : entries_(max_entries) {}

  struct Plan {
    std::size_t entry = 0;
    GraphAction action = GraphAction::rebuild;
  };
  // Decides for a batch; `arg_stride` bytes of arguments per item.
  Plan plan(const GraphShape& shape, std::span<const backend::PackedItem> items,
            std::uint32_t arg_stride) const;
  // Records that `entry` now holds this shape and these arguments (after the
  // graph was built/updated successfully).
  void commit(std::size_t entry, const GraphShape& shape, std::span<const backend::PackedItem> items,
              std::uint32_t arg_stride);
  // Forgets an entry (its graph failed or was destroyed).
  void drop(std::size_t entry);
  void clear();
  std::size_t size() const noexcept { return entries_.size(); }
  bool occupied(std::size_t entry) const { return entries_.at(entry).used; }

 private:
  struct Entry {
    bool used = false;
    GraphShape shape;
    std::vector<std::byte> args;
    std::uint64_t last_use = 0;
  };
  static bool same_args(const Entry& e, std::span<const backend::PackedItem> items, std::uint32_t stride);
  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
};

}  // namespace spool::cuda
