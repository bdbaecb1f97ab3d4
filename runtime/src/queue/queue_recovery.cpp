// PersistentQueue: liveness watchdog, recovery after a stall, kernels that
// stopped by themselves or faulted, and hung kernels.
#include <algorithm>
#include <cstring>

#include "ring_words.hpp"
#include "spool/backend/persistent_queue.hpp"
#include "spool/error.hpp"
#include "tracker.hpp"

namespace spool::backend {

namespace {
std::string ms_text(std::uint32_t ms) { return std::to_string(ms) + " ms"; }
}  // namespace

const char* const PersistentQueue::kBudgetWhy =
    "the persistent kernel ran out of the driver's loop budget while running this item (its body loops "
    "more than it declares with SPOOL_BODY_LOOP_BOUND); it may have run partially";

// The kernel runs (state_ == running): has it stopped, faulted, or stalled?
void PersistentQueue::check_kernel_locked() {
  std::string why;
  const KernelRun run = driver_.poll(&why);
  if (run == KernelRun::faulted) {
    settle_stopped_locked("the persistent kernel failed: " + why, false);
    return;
  }
  if (run == KernelRun::stopped) {
    reap_locked();
    if (outstanding() == 0) {  // parked, or exited idle
      resident_ = nullptr;
      state_ = State::idle;
      park_requested_ = false;
      ++stats_.parks;
      state_cv_.notify_all();
      return;
    }
    // It exited with work queued (it retired before its loop budget ran out,
    // or a park raced a publish): every queued slot is unclaimed; resume.
    try {
      launch_locked(*resident_, false);
    } catch (const Error& e) {
      settle_stopped_locked(std::string("the persistent kernel could not be resumed: ") + e.what(), true);
    }
    return;
  }
  if (outstanding() == 0) return;

  // Liveness. Slots are claimed in sequence order, so the oldest outstanding
  // slot tells: claimed and not finished, or nobody claims at all.
  const auto t = now();
  if (!started_ && ring::load(control(SPOOL_RING_STARTED)) != started_at_launch_) {
    started_ = true;
    started_seen_at_ = t;
  }
  const std::uint32_t s = reclaim_seq_;
  const bool claimed = ring::load(state(s) + SPOOL_RING_CLAIM) == ring::tag(s);
  if (s != watched_seq_ || claimed != watched_claimed_) {
    watched_seq_ = s;
    watched_claimed_ = claimed;
    watched_since_ = t;
  }
  const auto watchdog = std::chrono::milliseconds(o_.watchdog_ms);
  if (claimed) {
    if (t - watched_since_ > watchdog) {
      recover_locked("item claimed by the persistent kernel made no progress for " + ms_text(o_.watchdog_ms) +
                     " (SPOOL_WATCHDOG_MS)");
    }
  } else if (!started_) {
    if (t - launched_at_ > std::chrono::milliseconds(o_.startup_ms)) {
      recover_locked("the persistent kernel did not start within " + ms_text(o_.startup_ms) +
                     " (SPOOL_STARTUP_MS)");
    }
  } else if (t - std::max(watched_since_, started_seen_at_) > watchdog) {
    recover_locked("the running persistent kernel claimed no queued item for " + ms_text(o_.watchdog_ms) +
                   " (SPOOL_WATCHDOG_MS)");
  }
}

// The watchdog fired: ask the kernel to stop and settle every slot.
void PersistentQueue::recover_locked(const std::string& why) {
  ++stats_.recoveries;
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    if (Tracker* t = owners_[seq & (o_.capacity - 1)].tracker) t->result.watchdog_fired = true;
  }
  ring::store(control(SPOOL_RING_SHUTDOWN), 1);
  std::string fault;
  const KernelRun run = driver_.wait(std::chrono::milliseconds(o_.grace_ms), &fault);
  if (run == KernelRun::running) {
    declare_hung_locked(why + "; it did not stop within " + ms_text(o_.grace_ms) + " (SPOOL_GRACE_MS)");
  } else if (run == KernelRun::faulted) {
    settle_stopped_locked(why + "; the kernel then failed: " + fault, false);
  } else {
    settle_stopped_locked(why, true);
  }
}

// The kernel has stopped: done slots are credited, slots it never claimed
// are re-run by launches (`rerun`) or failed, in sequence order.
void PersistentQueue::settle_stopped_locked(const std::string& why, bool rerun) {
  reap_locked();
  std::vector<std::pair<Owner, PackedItem>> reruns;
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    std::uint32_t* st = state(seq);
    Owner& slot_owner = owners_[seq & (o_.capacity - 1)];
    const Owner o = slot_owner;
    slot_owner = Owner{};
    if (o.tracker == nullptr) continue;
    if (ring::load(st + SPOOL_RING_DONE) == ring::tag(seq)) {
      credit_locked(o, ring::load(st + SPOOL_RING_STATUS) == SPOOL_RING_STATUS_OK, false, kBudgetWhy);
    } else if (ring::load(st + SPOOL_RING_CLAIM) == ring::tag(seq)) {
      credit_locked(o, false, false, "claimed by the persistent kernel, which stopped before finishing it (" + why + ")");
    } else if (rerun) {
      const PackedItem& it = o.tracker->items[o.pos];
      reruns.emplace_back(o, PackedItem{o.end, it.index, it.args, o.begin});
    } else {
      credit_locked(o, false, false, "not run: " + why);
    }
  }
  reclaim_seq_ = next_seq_;
  resident_ = nullptr;
  state_ = State::idle;
  park_requested_ = false;
  reset_ring_locked();
  run_reruns_locked(reruns);
  last_progress_ = idle_since_ = now();
  state_cv_.notify_all();
}

// Runs unclaimed chunks by launches, per batch and in order (sequential
// batches keep their order: a chunk's predecessors ran before it).
void PersistentQueue::run_reruns_locked(std::vector<std::pair<Owner, PackedItem>>& reruns) {
  std::vector<PackedItem> items;
  for (std::size_t i = 0; i < reruns.size();) {
    Tracker* t = reruns[i].first.tracker;
    std::size_t j = i;
    items.clear();
    while (j < reruns.size() && reruns[j].first.tracker == t) items.push_back(reruns[j++].second);
    if (t->chain_broken) {
      for (std::size_t k = i; k < j; ++k) credit_locked(reruns[k].first, false, false, "not run: " + t->chain_why);
    } else {
      std::string failure;
      try {
        driver_.run_fallback(*t->kernel, items, t->sequential);
      } catch (const Error& e) {
        failure = std::string("re-run by launches after the watchdog fired, which failed: ") + e.what();
      }
      for (std::size_t k = i; k < j; ++k) credit_locked(reruns[k].first, failure.empty(), failure.empty(), failure);
    }
    i = j;
  }
}

// The kernel did not stop: nothing about its unfinished slots can be known
// until it does. Report them failed, keep their batches' buffers alive,
// refuse work until it stops.
void PersistentQueue::declare_hung_locked(const std::string& why) {
  ++stats_.hangs;
  reap_locked();
  const std::string failed = "not finished: " + why + "; the device is hung until the kernel stops";
  for (std::uint32_t seq = reclaim_seq_; seq != next_seq_; ++seq) {
    Owner& slot_owner = owners_[seq & (o_.capacity - 1)];
    const Owner o = slot_owner;
    slot_owner = Owner{};
    if (o.tracker == nullptr) continue;
    std::uint32_t* st = state(seq);
    if (ring::load(st + SPOOL_RING_DONE) == ring::tag(seq)) {
      credit_locked(o, ring::load(st + SPOOL_RING_STATUS) == SPOOL_RING_STATUS_OK, false, kBudgetWhy);
    } else {
      credit_locked(o, false, false, failed);
    }
  }
  reclaim_seq_ = next_seq_;
  state_ = State::hung;
  resident_ = nullptr;
  park_requested_ = false;
  hung_why_ = why;
  fail_unpublished_locked("not run: " + why + "; the device is hung");
  state_cv_.notify_all();
}

void PersistentQueue::fail_unpublished_locked(const std::string& why) {
  for (std::size_t i = publishing_; i < trackers_.size(); ++i) {
    Tracker& t = *trackers_[i];
    while (!t.published()) {
      t.flags[t.next_item] |= Tracker::kBad;
      settle_item_locked(t, t.next_item, why);
      ++t.next_item;
    }
  }
  publishing_ = trackers_.size();
}

// A hung kernel that finally stopped frees the device again.
void PersistentQueue::refresh_hung_locked() {
  if (state_ != State::hung) return;
  std::string why;
  if (driver_.poll(&why) == KernelRun::running) return;
  state_ = State::idle;
  next_seq_ = reclaim_seq_ = 0;
  reset_ring_locked();
  hung_why_.clear();
  for (auto& c : hung_keepalive_) released_.push_back(std::move(c));
  hung_keepalive_.clear();
  state_cv_.notify_all();
  work_cv_.notify_all();
}

}  // namespace spool::backend
