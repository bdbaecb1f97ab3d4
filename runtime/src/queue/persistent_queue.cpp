// PersistentQueue: accepting batches, publishing slots, reaping them, the
// engine loop and parking. Watchdog, recovery and hangs: queue_recovery.cpp.
#include "spool/backend/persistent_queue.hpp"

#include <algorithm>
#include <cstring>

#include "ring_words.hpp"
#include "spool/error.hpp"
#include "tracker.hpp"

namespace spool::backend {

namespace {
constexpr std::uint32_t kMaxCapacity = 1u << 20;
}

std::size_t PersistentQueue::ring_bytes(std::uint32_t capacity) noexcept {
  return (SPOOL_RING_CONTROL_WORDS + std::size_t{capacity} * (SPOOL_RING_SLOT_WORDS + SPOOL_RING_STATE_WORDS)) * 4;
}

QueueOptions PersistentQueue::options_from(const options::Settings& s) {
  QueueOptions o;
  o.capacity = s.queue_slots;
  o.park_us = s.park_us;
  o.watchdog_ms = s.watchdog_ms;
  o.startup_ms = s.startup_ms;
  o.grace_ms = s.grace_ms;
  check(o);
  return o;
}

void PersistentQueue::check(const QueueOptions& o) {
  if (o.capacity < 2 || o.capacity > kMaxCapacity || (o.capacity & (o.capacity - 1)) != 0) {
    SPOOL_THROW(Errc::invalid_argument, "persistent queue capacity must be a power of two in [2, " +
                                            std::to_string(kMaxCapacity) + "], got " + std::to_string(o.capacity));
  }
  if (o.watchdog_ms == 0 || o.startup_ms == 0 || o.grace_ms == 0) {
    SPOOL_THROW(Errc::invalid_argument, "persistent queue: watchdog, start-up and grace periods must be > 0 ms");
  }
  if (o.loop_budget != 0 && o.loop_budget < 4 * SPOOL_RING_BUDGET_MARGIN) {
    SPOOL_THROW(Errc::invalid_argument, "persistent queue: a loop budget below " +
                                            std::to_string(4 * SPOOL_RING_BUDGET_MARGIN) + " iterations cannot run items");
  }
}

PersistentQueue::PersistentQueue(std::uint32_t* ring, QueueOptions o, PersistentDriver& driver, QueueClock clock,
                                 bool engine_thread)
    : ring_(ring), o_(o), driver_(driver), clock_(std::move(clock)), owners_(o.capacity) {
  check(o_);
  reset_ring_locked();
  last_progress_ = idle_since_ = now();
  if (engine_thread) engine_ = std::thread([this] { engine_main(); });
}

PersistentQueue::~PersistentQueue() {
  std::unique_lock lk(mu_);
  closing_ = true;
  // Every accepted batch completes: the engine keeps running items, the
  // watchdog bounds a stall, a hang fails what is left.
  while (!trackers_.empty()) {
    step_locked();
    deliver(lk);
    if (trackers_.empty()) break;
    state_cv_.wait_for(lk, std::chrono::microseconds(200));
  }
  if (state_ == State::running) {
    park_requested_ = true;
    ring::store(control(SPOOL_RING_PARK), 1);
    const auto deadline = now() + std::chrono::milliseconds(o_.grace_ms);
    while (state_ == State::running && now() < deadline) {
      step_locked();
      if (state_ != State::running) break;
      state_cv_.wait_for(lk, std::chrono::microseconds(200));
    }
  }
  stop_ = true;
  lk.unlock();
  work_cv_.notify_all();
  if (engine_.joinable()) engine_.join();
  lk.lock();
  deliver(lk);
}

std::uint32_t* PersistentQueue::slot(std::uint32_t seq) const noexcept {
  return ring_ + SPOOL_RING_CONTROL_WORDS + std::size_t{seq & (o_.capacity - 1)} * SPOOL_RING_SLOT_WORDS;
}

std::uint32_t* PersistentQueue::state(std::uint32_t seq) const noexcept {
  return ring_ + SPOOL_RING_CONTROL_WORDS + std::size_t{o_.capacity} * SPOOL_RING_SLOT_WORDS +
         std::size_t{seq & (o_.capacity - 1)} * SPOOL_RING_STATE_WORDS;
}

bool PersistentQueue::pending() const noexcept { return publishing_ < trackers_.size(); }

void PersistentQueue::reset_ring_locked() {
  std::memset(ring_, 0, ring_bytes(o_.capacity));
  control(SPOOL_RING_CAPACITY)[0] = o_.capacity;
  control(SPOOL_RING_IDLE_LIMIT)[0] = o_.idle_limit;
  control(SPOOL_RING_LOOP_BUDGET)[0] = o_.loop_budget;
  control(SPOOL_RING_CANARY)[0] = 2;
  next_seq_ = reclaim_seq_ = 0;
  std::fill(owners_.begin(), owners_.end(), Owner{});
}

void PersistentQueue::submit(const KernelImpl& k, std::span<const PackedItem> items, bool sequential,
                             Completion done) {
  std::unique_lock lk(mu_);
  if (closing_) SPOOL_THROW(Errc::shut_down, "the device is being closed; no work can be queued");
  refresh_hung_locked();
  if (state_ == State::hung) {
    throw Error(Errc::device_lost,
                "the device's persistent kernel is hung (" + hung_why_ +
                    "); no work can be queued until it stops",
                "submit", {}, __FILE__, __LINE__);
  }
  auto t = std::make_unique<Tracker>();
  t->kernel = &k;
  t->items = items;
  t->done = std::move(done);
  t->sequential = sequential;
  t->arg_bytes = std::min<std::uint32_t>(k.desc().arg_block_size, SPOOL_RING_ARG_BYTES);
  t->max_chunk = driver_.max_chunk(k);
  t->start = now();
  t->flags.assign(items.size(), 0);
  t->result.was_resident = resident_ == &k && state_ == State::running && !park_requested_;
  if (!items.empty()) t->next_begin = items[0].begin;
  trackers_.push_back(std::move(t));
  pump_locked();
  complete_finished_locked();
  lk.unlock();
  work_cv_.notify_one();
}

// Publishes as much of the pending work as the ring takes, launching,
// switching or resuming the kernel as needed.
void PersistentQueue::pump_locked() {
  if (state_ == State::hung || holds_ > 0) return;
  while (pending()) {
    Tracker& t = *trackers_[publishing_];
    if (t.published()) {
      ++publishing_;
      continue;
    }
    if (state_ == State::running && resident_ == t.kernel && park_requested_) {
      // Work for the resident kernel arrived while it was being parked: keep
      // it. If it exited already, check_kernel_locked() resumes it.
      park_requested_ = false;
      ring::store(control(SPOOL_RING_PARK), 0);
    }
    if (state_ != State::running || resident_ != t.kernel) {
      if (state_ == State::running) {  // another kernel: park it, launch when it stopped
        if (!park_requested_) {
          park_requested_ = true;
          ring::store(control(SPOOL_RING_PARK), 1);
        }
        return;
      }
      try {
        launch_locked(*t.kernel, true);
      } catch (const Error& e) {
        fail_unpublished_locked(std::string("the persistent kernel could not be launched: ") + e.what());
        return;
      }
    }
    while (!t.published() && outstanding() < o_.capacity) {
      if (!publish_one_locked(t)) break;
    }
    if (!t.published()) return;  // the ring is full
    ++publishing_;
  }
}

// Publishes the next chunk of `t`; false when nothing was published (the
// rest of a broken sequential chain is failed instead).
bool PersistentQueue::publish_one_locked(Tracker& t) {
  if (t.chain_broken) {
    while (!t.published()) {
      t.flags[t.next_item] |= Tracker::kBad;
      settle_item_locked(t, t.next_item, "not run: " + t.chain_why);
      ++t.next_item;
    }
    return false;
  }
  const PackedItem& it = t.items[t.next_item];
  const std::uint32_t begin = t.next_begin;
  const std::uint32_t end = t.max_chunk == 0 || it.grid - begin <= t.max_chunk ? it.grid : begin + t.max_chunk;
  const std::uint32_t seq = next_seq_;
  std::uint32_t* s = slot(seq);
  s[SPOOL_RING_END] = end;
  s[SPOOL_RING_ITEM] = it.index;
  s[SPOOL_RING_BEGIN] = begin;
  // Gates: every item of a sequential batch, and the first of any batch,
  // start after every slot published before them is done.
  const bool gate = begin == it.begin && (t.sequential || t.next_item == 0);
  // A leader peeks FLAGS and GATE_SEQ before its claim; a stale peek (HEAD
  // moved on and this slot was reused) is discarded by its failed CAS, but
  // the words are read while written: atomic stores. SEQTAG is read by gate
  // scans to tell a reused slot (its old occupant is done).
  ring::store_relaxed(s + SPOOL_RING_FLAGS, gate ? SPOOL_RING_FLAG_GATE : 0u);
  ring::store_relaxed(s + SPOOL_RING_GATE_SEQ, seq);
  if (t.arg_bytes != 0) std::memcpy(s + SPOOL_RING_ARGS, it.args, t.arg_bytes);
  ring::store_relaxed(s + SPOOL_RING_SEQTAG, ring::tag(seq));
  owners_[seq & (o_.capacity - 1)] = Owner{&t, t.next_item, begin, end, end == it.grid};
  next_seq_ = seq + 1;
  ring::store(control(SPOOL_RING_TAIL), next_seq_);
  ++stats_.slots;
  idle_since_ = now();
  if (end == it.grid) {
    ++t.next_item;
    if (!t.published()) t.next_begin = t.items[t.next_item].begin;
  } else {
    t.next_begin = end;
  }
  return true;
}

void PersistentQueue::launch_locked(const KernelImpl& k, bool fresh) {
  if (fresh) reset_ring_locked();
  ring::store(control(SPOOL_RING_SHUTDOWN), 0);
  ring::store(control(SPOOL_RING_PARK), park_requested_ ? 1u : 0u);
  started_at_launch_ = ring::load(control(SPOOL_RING_STARTED));
  started_ = false;
  launched_at_ = now();
  driver_.launch(k, fresh);
  resident_ = &k;
  state_ = State::running;
  ++(fresh ? stats_.launches : stats_.relaunches);
}

void PersistentQueue::reap_locked() {
  const std::uint32_t before = reclaim_seq_;
  while (reclaim_seq_ != next_seq_) {
    std::uint32_t* st = state(reclaim_seq_);
    if (ring::load(st + SPOOL_RING_DONE) != ring::tag(reclaim_seq_)) break;
    const bool ok = ring::load(st + SPOOL_RING_STATUS) == SPOOL_RING_STATUS_OK;
    Owner& o = owners_[reclaim_seq_ & (o_.capacity - 1)];
    const Owner copy = o;
    o = Owner{};
    ++reclaim_seq_;
    credit_locked(copy, ok, false, kBudgetWhy);
  }
  if (reclaim_seq_ != before) {
    ring::store(control(SPOOL_RING_RECLAIM), reclaim_seq_);
    last_progress_ = idle_since_ = now();
    state_cv_.notify_all();
  }
}

// One chunk finished (ok), failed, or ran by launches (fallback).
void PersistentQueue::credit_locked(const Owner& o, bool ok, bool fallback, std::string_view why) {
  Tracker& t = *o.tracker;
  if (!ok) {
    t.flags[o.pos] |= Tracker::kBad;
    if (t.result.failure.empty()) t.result.failure = "item " + std::to_string(o.pos) + ": " + std::string(why);
  }
  if (fallback) t.flags[o.pos] |= Tracker::kFallback;
  if (o.last_chunk) settle_item_locked(t, o.pos, why);
}

void PersistentQueue::settle_item_locked(Tracker& t, std::uint32_t pos, std::string_view why) {
  bool ok = (t.flags[pos] & Tracker::kBad) == 0;
  if (ok && t.chain_broken) {
    ok = false;
    if (t.result.failure.empty()) t.result.failure = "item " + std::to_string(pos) + ": ran after " + t.chain_why;
  }
  if (ok) {
    ++t.result.items_run;
    if ((t.flags[pos] & Tracker::kFallback) != 0) ++t.result.fallback_items;
  } else {
    ++t.result.items_failed;
    if (t.result.failure.empty()) t.result.failure = "item " + std::to_string(pos) + ": " + std::string(why);
    if (t.sequential && !t.chain_broken) {
      t.chain_broken = true;
      t.chain_why = "item " + std::to_string(pos) + " of this sequential batch failed";
    }
  }
  ++t.settled;
}

void PersistentQueue::complete_finished_locked() {
  for (std::size_t i = 0; i < trackers_.size();) {
    Tracker& t = *trackers_[i];
    if (!t.finished()) {
      ++i;
      continue;
    }
    t.result.wall_ns = std::chrono::duration<double, std::nano>(now() - t.start).count();
    // A hung kernel may still touch this batch's buffers: a copy of the
    // completion shares ownership of the batch until the kernel stops.
    if (state_ == State::hung) hung_keepalive_.push_back(t.done);
    ready_.emplace_back(std::move(t.done), std::move(t.result));
    trackers_.erase(trackers_.begin() + static_cast<std::ptrdiff_t>(i));
    if (i < publishing_) --publishing_;
    state_cv_.notify_all();
  }
}

void PersistentQueue::deliver(std::unique_lock<std::mutex>& lk) {
  if (ready_.empty() && released_.empty()) return;
  auto ready = std::move(ready_);
  ready_.clear();
  auto released = std::move(released_);
  released_.clear();
  lk.unlock();
  for (auto& [fn, res] : ready) fn(std::move(res));
  ready.clear();
  released.clear();  // may free buffers: never with the lock held
  lk.lock();
}

void PersistentQueue::hold(std::unique_lock<std::mutex>& lk) {
  refresh_hung_locked();
  auto hung_error = [&] {
    return Error(Errc::device_lost,
                 "the device's persistent kernel is hung (" + hung_why_ + "); nothing can run until it stops",
                 "execute", {}, __FILE__, __LINE__);
  };
  if (state_ == State::hung) throw hung_error();
  ++holds_;
  if (state_ == State::running && !park_requested_) {
    park_requested_ = true;
    ring::store(control(SPOOL_RING_PARK), 1);
  }
  // The engine may be busy delivering completions: step here too, so the
  // watchdog still bounds the wait.
  while (state_ == State::running) {
    step_locked();
    if (state_ != State::running) break;
    state_cv_.wait_for(lk, std::chrono::microseconds(100));
  }
  if (state_ == State::hung) {
    --holds_;
    throw hung_error();
  }
}

void PersistentQueue::release(std::unique_lock<std::mutex>& /*lk*/) {
  if (holds_ > 0) --holds_;
  pump_locked();
  work_cv_.notify_all();
}

void PersistentQueue::park() {
  std::unique_lock lk(mu_);
  hold(lk);
  release(lk);
  deliver(lk);
}

bool PersistentQueue::resident(const KernelImpl& k) const {
  std::lock_guard lk(mu_);
  return state_ == State::running && resident_ == &k;
}

bool PersistentQueue::hung() {
  std::lock_guard lk(mu_);
  refresh_hung_locked();
  return state_ == State::hung;
}

QueueStats PersistentQueue::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void PersistentQueue::tick() {
  std::unique_lock lk(mu_);
  step_locked();
  deliver(lk);
}

void PersistentQueue::step_locked() {
  if (state_ == State::hung) {
    refresh_hung_locked();
    if (state_ == State::hung) return;
  }
  if (state_ == State::running) {
    reap_locked();
    check_kernel_locked();
  }
  pump_locked();
  if (state_ == State::running && !park_requested_ && outstanding() == 0 && !pending() &&
      now() - idle_since_ > std::chrono::microseconds(o_.park_us)) {
    park_requested_ = true;
    ring::store(control(SPOOL_RING_PARK), 1);
  }
  complete_finished_locked();
}

void PersistentQueue::engine_main() {
  std::unique_lock lk(mu_);
  std::uint32_t backoff_us = 5;
  while (!stop_) {
    const std::uint32_t reclaimed = reclaim_seq_;
    step_locked();
    if (!ready_.empty() || !released_.empty()) {
      deliver(lk);
      backoff_us = 5;
      continue;
    }
    if (state_ == State::running && (outstanding() != 0 || pending())) {
      // Back off (5 .. 100 us) while nothing completes: spinning would take
      // the core a CPU device's shader runs on. Submissions wake it at once.
      backoff_us = reclaim_seq_ != reclaimed ? 5u : std::min<std::uint32_t>(backoff_us * 2, 100u);
      work_cv_.wait_for(lk, std::chrono::microseconds(backoff_us));
    } else if (state_ == State::running) {
      work_cv_.wait_for(lk, std::chrono::microseconds(o_.park_us / 4 + 50));
    } else if (state_ == State::hung) {
      work_cv_.wait_for(lk, std::chrono::milliseconds(10));
    } else {
      // Idle: wake for work that can be published (not while a hold keeps
      // the kernel from launching: release() notifies), completions, stop.
      work_cv_.wait(lk, [&] {
        return stop_ || (pending() && holds_ == 0) || !ready_.empty() || !released_.empty() ||
               state_ != State::idle;
      });
    }
  }
}

}  // namespace spool::backend
