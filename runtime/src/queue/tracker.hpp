// One accepted batch inside the persistent queue (internal).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spool/alloc/pool_allocator.hpp"
#include "spool/backend/persistent_queue.hpp"

namespace spool::backend {

struct PersistentQueue::Tracker {
  static constexpr std::uint8_t kBad = 1, kFallback = 2;

  const KernelImpl* kernel = nullptr;
  std::span<const PackedItem> items;  // valid until `done` runs (ExecRequest contract)
  Completion done;
  bool sequential = false;
  std::uint32_t arg_bytes = 0;
  std::uint32_t max_chunk = 0;        // 0: one slot per item
  std::chrono::steady_clock::time_point start;

  // Publication cursor: the next chunk to publish is [next_begin, items[next_item].grid).
  std::uint32_t next_item = 0;
  std::uint32_t next_begin = 0;
  std::uint32_t settled = 0;          // items run or failed
  bool chain_broken = false;          // sequential: an item failed, every later one fails too
  std::string chain_why;
  // Per item: kBad (a chunk failed), kFallback (a chunk was re-run by launches).
  std::vector<std::uint8_t, alloc::PoolAllocator<std::uint8_t>> flags;
  ExecResult result;

  bool published() const noexcept { return next_item == items.size(); }
  bool finished() const noexcept { return settled == items.size(); }
};

}  // namespace spool::backend
