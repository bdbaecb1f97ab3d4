// The persistent mode's host side, written once for every backend: the work
// queue ring (spool/backend/ring_abi.h), publishing, reaping, the liveness
// watchdog, recovery, parking and restarting, and the completion of every
// accepted batch. A backend implements only PersistentDriver (launch the
// resident kernel, has it stopped, run fallback items as launches) and owns
// the ring memory; the device's execution lock is this queue's mutex.
//
// Guarantees (docs/runtime.md, "Persistent mode"):
//  - every accepted item runs exactly once, or its batch's verdict reports it
//    failed; every accepted batch completes, whatever happens to the device;
//  - items of a sequential batch run in order, each after every write of the
//    one before, in the kernel and in any fallback; a batch starts after the
//    batches accepted before it have finished, as with ordinary launches;
//  - a stall is a claimed slot that did not finish within watchdog_ms, or a
//    published slot nobody claimed within watchdog_ms once the kernel runs
//    (startup_ms before it has started: pipeline compilation, other work
//    queued ahead). The queue then stops the kernel; if it stops within
//    grace_ms, unclaimed items are re-run by launches (in order) and nothing
//    is lost; if not, the device is hung: unfinished items are reported
//    failed, their buffers are kept alive, submissions are refused until the
//    kernel stops, and then the device is usable again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "spool/backend/backend.hpp"
#include "spool/error.hpp"
#include "spool/options.hpp"

namespace spool::backend {

struct QueueOptions {
  std::uint32_t capacity = 1024;     // slots: a power of two in [2, 2^20]
  std::uint32_t park_us = 2000;      // idle time before the resident kernel is parked
  std::uint32_t watchdog_ms = 2000;  // a claimed slot may run this long
  std::uint32_t startup_ms = 30000;  // a (re)launched kernel may take this long to start
  std::uint32_t grace_ms = 2000;     // a kernel asked to stop may take this long
  std::uint32_t idle_limit = 1u << 26;  // empty polls before a workgroup exits by itself
  std::uint32_t loop_budget = 0;     // the driver's loop iterations per workgroup (0: no limit)
};

enum class KernelRun { running, stopped, faulted };

// What a backend provides. Called with the queue's mutex held.
class PersistentDriver {
 public:
  virtual ~PersistentDriver() = default;
  // Launches the resident kernel of `k` over the ring. `fresh`: the ring was
  // just reset, zero the device control block (HEAD, RETIRE); otherwise the
  // kernel resumes at HEAD (zero RETIRE only). Throws spool::Error.
  virtual void launch(const KernelImpl& k, bool fresh) = 0;
  // The state of the kernel launched last; never blocks. `faulted`: it
  // stopped with a device error (the error is in `why`).
  virtual KernelRun poll(std::string* why) = 0;
  // Waits up to `timeout` for the kernel to stop, then returns poll().
  virtual KernelRun wait(std::chrono::milliseconds timeout, std::string* why) = 0;
  // Runs `items` (sub-ranges [begin, grid) allowed) as ordinary launches
  // and waits for them. Throws spool::Error when they did not all run.
  virtual void run_fallback(const KernelImpl& k, std::span<const PackedItem> items, bool sequential) = 0;
  // The largest grid range one slot carries for `k` (0: no limit); larger
  // items are split into consecutive slots (chunks).
  virtual std::uint32_t max_chunk(const KernelImpl& k) const = 0;
};

using QueueClock = std::function<std::chrono::steady_clock::time_point()>;

struct QueueStats {
  std::uint64_t launches = 0;    // fresh launches of a resident kernel
  std::uint64_t relaunches = 0;  // resumed after the kernel exited with work queued
  std::uint64_t parks = 0;
  std::uint64_t recoveries = 0;  // watchdog firings
  std::uint64_t hangs = 0;
  std::uint64_t slots = 0;       // slots published
};

class PersistentQueue {
 public:
  // `ring` holds ring_bytes(o.capacity) bytes, visible to the device. With
  // `engine_thread` false nothing runs by itself: tests call tick().
  PersistentQueue(std::uint32_t* ring, QueueOptions o, PersistentDriver& driver, QueueClock clock = {},
                  bool engine_thread = true);
  // Runs (or reports failed) every accepted item, parks the kernel, stops.
  ~PersistentQueue();
  PersistentQueue(const PersistentQueue&) = delete;
  PersistentQueue& operator=(const PersistentQueue&) = delete;

  static std::size_t ring_bytes(std::uint32_t capacity) noexcept;
  // Validates options (power-of-two capacity etc.); throws spool::Error.
  static void check(const QueueOptions& o);
  // The queue's options from the SPOOL_* settings (slots, park, watchdog,
  // startup, grace), checked.
  static QueueOptions options_from(const options::Settings& s);

  // The device's execution lock: backends hold it to run launches/recorded.
  std::mutex& mutex() noexcept { return mu_; }

  // Accepts a batch; never blocks on a full ring (items wait host-side).
  // Throws spool::Error(device_lost) while a hung kernel has not stopped,
  // (shut_down) while the queue is being destroyed.
  void submit(const KernelImpl& k, std::span<const PackedItem> items, bool sequential, Completion done);

  // With the lock held (`lk` on mutex()): parks the kernel, waiting while
  // the ring drains, and keeps it from launching until release(). Throws
  // spool::Error(device_lost) when the kernel is hung (nothing may run).
  void hold(std::unique_lock<std::mutex>& lk);
  void release(std::unique_lock<std::mutex>& lk);
  // A backend's launches or recorded batch of `items` items: runs `run`
  // (() -> ExecResult) under mutex() with the kernel held parked. Time spent
  // parking a resident kernel is part of the wall time and reported apart
  // (parked_ns) so the launch model can tell the two apart. A failure while
  // executing (a spool::Error, or a result with a failure) ends with every
  // item reported failed, never an exception: the items were accepted.
  // Throws like hold() (device_lost) before anything ran.
  template <class F>
  ExecResult run_exclusive(std::size_t items, F&& run);
  // Parks the resident kernel now and waits until it stopped.
  void park();
  bool resident(const KernelImpl& k) const;
  // Whether any kernel is resident; the caller holds mutex().
  bool resident_locked() const noexcept { return state_ == State::running; }
  // Whether a hung kernel keeps the device busy (polls the driver).
  bool hung();
  QueueStats stats() const;

  // One round of the engine: reap, watchdog, publish, park; then delivers
  // completions (without the lock). The engine thread calls it in a loop.
  void tick();

 private:
  struct Tracker;
  struct Owner {
    Tracker* tracker = nullptr;
    std::uint32_t pos = 0;  // item index in the tracker
    std::uint32_t begin = 0, end = 0;
    bool last_chunk = false;
  };
  using Clock = std::chrono::steady_clock;
  enum class State { idle, running, hung };

  Clock::time_point now() const { return clock_ ? clock_() : Clock::now(); }
  std::uint32_t* control(std::uint32_t w) const noexcept { return ring_ + w; }
  std::uint32_t* slot(std::uint32_t seq) const noexcept;
  std::uint32_t* state(std::uint32_t seq) const noexcept;
  std::uint32_t outstanding() const noexcept { return next_seq_ - reclaim_seq_; }
  bool pending() const noexcept;

  static const char* const kBudgetWhy;

  void step_locked();                // tick without delivering completions
  void reap_locked();
  // One chunk finished (`ok`), failed (`why`), or ran by launches (`fallback`).
  void credit_locked(const Owner& o, bool ok, bool fallback, std::string_view why);
  void settle_item_locked(Tracker& t, std::uint32_t pos, std::string_view why);
  void pump_locked();                // publish pending items, launch or switch kernels
  bool publish_one_locked(Tracker& t);
  void launch_locked(const KernelImpl& k, bool fresh);
  void reset_ring_locked();
  void check_kernel_locked();        // stopped / faulted / watchdog
  void recover_locked(const std::string& why);
  void settle_stopped_locked(const std::string& why, bool rerun);
  void declare_hung_locked(const std::string& why);
  void run_reruns_locked(std::vector<std::pair<Owner, PackedItem>>& reruns);
  void fail_unpublished_locked(const std::string& why);
  void complete_finished_locked();
  void refresh_hung_locked();
  void deliver(std::unique_lock<std::mutex>& lk);
  void engine_main();

  std::uint32_t* ring_;
  QueueOptions o_;
  PersistentDriver& driver_;
  QueueClock clock_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // wakes the engine
  std::condition_variable state_cv_;  // wakes waiters (hold, park, destruction)
  State state_ = State::idle;
  const KernelImpl* resident_ = nullptr;
  bool park_requested_ = false;
  std::uint32_t holds_ = 0;
  bool closing_ = false;
  bool stop_ = false;

  std::uint32_t next_seq_ = 0, reclaim_seq_ = 0;
  std::vector<Owner> owners_;
  std::deque<std::unique_ptr<Tracker>> trackers_;  // FIFO: publication order
  std::size_t publishing_ = 0;                     // first tracker with unpublished items
  std::vector<std::pair<Completion, ExecResult>> ready_;
  std::vector<Completion> hung_keepalive_;         // batches a hung kernel may still touch
  std::vector<Completion> released_;               // dropped outside the lock (may free buffers)
  std::string hung_why_;

  // Liveness.
  Clock::time_point launched_at_{}, started_seen_at_{}, last_progress_{}, idle_since_{};
  std::uint32_t started_at_launch_ = 0;
  bool started_ = false;
  std::uint32_t watched_seq_ = 0;
  bool watched_claimed_ = false;
  Clock::time_point watched_since_{};

  QueueStats stats_;
  std::thread engine_;
};

template <class F>
ExecResult PersistentQueue::run_exclusive(std::size_t items, F&& run) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock lk(mu_);
  const bool was_resident = resident_locked();
  hold(lk);
  const double parked =
      was_resident ? std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() : 0.0;
  ExecResult r;
  try {
    r = run();
  } catch (const Error& e) {
    r = ExecResult{};
    r.failure = e.what();
  }
  release(lk);
  r.parked_ns = parked;
  r.wall_ns += parked;
  if (!r.failure.empty()) {
    r.items_run = 0;
    r.items_failed = static_cast<std::uint32_t>(items);
    r.failure = "the batch failed while executing; its items may have run partially: " + r.failure;
  }
  return r;
}

}  // namespace spool::backend
