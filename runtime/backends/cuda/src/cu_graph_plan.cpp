#include "cu_graph_plan.hpp"

#include <cstring>

namespace spool::cuda {

const char* to_string(GraphAction a) noexcept {
  switch (a) {
    case GraphAction::replay: return "replay";
    case GraphAction::update: return "update";
    case GraphAction::rebuild: return "rebuild";
  }
  return "unknown";
}

bool GraphPlanner::same_args(const Entry& e, std::span<const backend::PackedItem> items,
                             std::uint32_t stride) {
  if (e.args.size() != items.size() * std::size_t{stride}) return false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (stride != 0 && std::memcmp(e.args.data() + i * stride, items[i].args, stride) != 0) return false;
  }
  return true;
}

GraphPlanner::Plan GraphPlanner::plan(const GraphShape& shape, std::span<const backend::PackedItem> items,
                                      std::uint32_t arg_stride) const {
  const Entry* best_update = nullptr;
  for (const auto& e : entries_) {
    if (!e.used || !(e.shape == shape)) continue;
    if (same_args(e, items, arg_stride)) {
      return Plan{static_cast<std::size_t>(&e - entries_.data()), GraphAction::replay};
    }
    if (best_update == nullptr || e.last_use > best_update->last_use) best_update = &e;
  }
  if (best_update != nullptr) {
    return Plan{static_cast<std::size_t>(best_update - entries_.data()), GraphAction::update};
  }
  std::size_t victim = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].used) return Plan{i, GraphAction::rebuild};
    if (entries_[i].last_use < entries_[victim].last_use) victim = i;
  }
  return Plan{victim, GraphAction::rebuild};
}

void GraphPlanner::commit(std::size_t entry, const GraphShape& shape,
                          std::span<const backend::PackedItem> items, std::uint32_t arg_stride) {
  Entry& e = entries_.at(entry);
  e.used = true;
  if (!(e.shape == shape)) e.shape = shape;
  e.args.resize(items.size() * std::size_t{arg_stride});
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (arg_stride != 0) std::memcpy(e.args.data() + i * arg_stride, items[i].args, arg_stride);
  }
  e.last_use = ++clock_;
}

void GraphPlanner::drop(std::size_t entry) { entries_.at(entry) = Entry{}; }

void GraphPlanner::clear() {
  for (auto& e : entries_) e = Entry{};
}

}  // namespace spool::cuda
