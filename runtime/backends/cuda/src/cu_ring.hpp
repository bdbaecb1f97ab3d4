// Host-side bookkeeping of the persistent work queue, over plain memory (the
// mapped pinned ring on a device; any 8-byte aligned host memory in tests).
// Layout and slot states: kernels/cuda/spool_cuda_abi.hpp. Exactly-once rules
// (as in the Vulkan backend):
//   * the host publishes a slot (fills it, then release-stores `published`,
//     then advances `tail`); the device claims it with a CAS published ->
//     claimed, runs it, release-stores `done`;
//   * the host reaps `done` slots strictly in sequence order, crediting each
//     to the batch (tracker) that pushed it;
//   * on recovery the host revokes every unclaimed slot by CAS published ->
//     revoked, so each slot is either run by the device or revoked, never
//     both; revoked items are re-run by launches once the kernel has stopped;
//     claimed-but-unfinished items are reported as failed (never re-run: they
//     may have had side effects).
// Not thread-safe: the owner serialises calls (the device's mutex).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "spool/backend/backend.hpp"
#include "spool_cuda_abi.hpp"

namespace spool::cuda {

namespace ring = abi::ring;

namespace ringops {
inline std::uint32_t load(std::uint32_t* w) {
  return std::atomic_ref<std::uint32_t>(*w).load(std::memory_order_acquire);
}
inline void store(std::uint32_t* w, std::uint32_t v) {
  std::atomic_ref<std::uint32_t>(*w).store(v, std::memory_order_release);
}
inline bool cas(std::uint32_t* w, std::uint32_t expect, std::uint32_t v) {
  return std::atomic_ref<std::uint32_t>(*w).compare_exchange_strong(expect, v, std::memory_order_acq_rel);
}
}  // namespace ringops

struct RingTracker {
  const void* kernel = nullptr;              // the backend's kernel (opaque here)
  std::vector<backend::PackedItem> items;    // copies of the request's items
  backend::Completion done;
  std::chrono::steady_clock::time_point start;
  std::uint32_t pushed = 0;
  std::uint32_t finished = 0;                // run + failed
  backend::ExecResult result;
};

struct Rerun {
  RingTracker* tracker = nullptr;
  std::vector<backend::PackedItem> items;    // revoked items, in sequence order
};

class RingBook {
 public:
  // `words` holds bytes_for(capacity) bytes; capacity is a power of two >= 2.
  RingBook(std::uint32_t* words, std::uint32_t capacity);
  static std::size_t bytes_for(std::uint32_t capacity) noexcept;

  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint32_t* words() const noexcept { return words_; }
  std::uint32_t* control(std::uint32_t word) const noexcept { return words_ + word; }
  std::uint32_t* slot(std::uint32_t seq) const noexcept;

  // Zeroes the ring (queue empty, kernel not running) and writes capacity and
  // idle limit. Requires outstanding() == 0.
  void reset(std::uint32_t idle_limit);

  RingTracker& add_tracker(const void* kernel, std::span<const backend::PackedItem> items,
                           backend::Completion done, bool was_resident);
  std::uint32_t outstanding() const noexcept { return next_seq_ - reclaim_seq_; }
  bool full() const noexcept { return outstanding() >= capacity_; }
  std::uint32_t next_seq() const noexcept { return next_seq_; }

  // Publishes item `pos` of `t` (precondition: !full()).
  void publish(RingTracker& t, std::uint32_t pos, bool sequential, std::uint32_t arg_bytes);

  void set_park(bool on) { ringops::store(control(ring::kPark), on ? 1u : 0u); }
  void set_shutdown(bool on) { ringops::store(control(ring::kShutdown), on ? 1u : 0u); }

  // Reaps done slots in order; completes finished trackers. Returns true when
  // something moved (a slot reaped or the device's done counter changed).
  bool reap();

  // Recovery, step 1: revoke every unclaimed outstanding slot.
  std::uint32_t revoke_unclaimed();
  // Step 2, after asking the kernel to stop (`stopped`: it did): accounts for
  // every outstanding slot (done -> run, revoked && stopped -> re-run list,
  // otherwise failed with a reason) and marks the trackers watchdog_fired.
  std::vector<Rerun> account_outstanding(bool stopped);
  // Step 3: credits the outcome of re-running revoked items.
  static void credit_rerun(Rerun& r, std::uint32_t run, const std::string* failure);
  // Step 4: resets the queue (zeroes the ring when `stopped`) and completes
  // every tracker whose items are all accounted for.
  void finish_recovery(bool stopped, std::uint32_t idle_limit);

  // Fails every item not yet finished of every tracker (closing the device).
  void fail_all(const std::string& why);

  std::vector<std::pair<backend::Completion, backend::ExecResult>> take_ready();
  bool has_ready() const noexcept { return !ready_.empty(); }
  std::size_t live_trackers() const noexcept { return trackers_.size(); }

 private:
  struct Owner {
    RingTracker* tracker = nullptr;
    std::uint32_t pos = 0;
  };
  void complete_if_finished(RingTracker* t);

  std::uint32_t* words_;
  std::uint32_t capacity_;
  std::uint32_t next_seq_ = 0;
  std::uint32_t reclaim_seq_ = 0;
  std::uint32_t last_done_ = 0;
  std::vector<Owner> owners_;
  std::list<std::unique_ptr<RingTracker>> trackers_;
  std::vector<std::pair<backend::Completion, backend::ExecResult>> ready_;
};

}  // namespace spool::cuda
