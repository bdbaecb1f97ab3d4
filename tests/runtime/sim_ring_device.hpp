// A simulated device for the persistent queue's tests: it follows the ring
// protocol of spool/backend/ring_abi.h on host memory (claims in order,
// gates, park, shutdown, loop budget status), runs "bodies" by calling back
// into the test, and can stall an item, refuse to start, or hang. Two ways to
// drive it:
//  - stepped: every poll() lets the single simulated workgroup claim and run
//    whatever it can (deterministic; use with a fake clock and tick());
//  - threaded: `workgroups` threads claim concurrently with the host (stress).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "spool/backend/persistent_queue.hpp"
#include "spool/backend/ring_abi.h"

namespace spool::test {

using backend::KernelImpl;
using backend::KernelRun;
using backend::PackedItem;

struct SimKernel final : backend::KernelImpl {
  backend::KernelDesc d;
  explicit SimKernel(std::string name, std::uint32_t arg_bytes = 8) {
    d.name = std::move(name);
    d.arg_block_size = arg_bytes;
    d.has_persistent = true;
  }
  const backend::KernelDesc& desc() const noexcept override { return d; }
};

// Arguments every simulated item carries: {id, stall}.
struct SimArgs {
  std::uint32_t id = 0;
  // 1: the workgroup that claims it stops inside it until released (stepped:
  // release(); threaded: the host asks the kernel to stop); 2 (threaded):
  // it then still takes `hang_ms` more, outlasting the grace period (a hang).
  std::uint32_t stall = 0;
};

class SimDevice final : public backend::PersistentDriver {
 public:
  // Called for every execution of a range: (args, begin, end, by_fallback).
  using Body = std::function<void(const SimArgs&, std::uint32_t, std::uint32_t, bool)>;

  SimDevice(std::uint32_t capacity, Body body) : ring_(ring_words(capacity), 0), body_(std::move(body)) {}
  ~SimDevice() override { join(); }

  static std::size_t ring_words(std::uint32_t capacity) {
    return backend::PersistentQueue::ring_bytes(capacity) / 4;
  }
  std::uint32_t* ring() { return ring_.data(); }

  // ---- knobs ----
  std::uint32_t chunk = 0;          // max_chunk()
  bool starts = true;               // false: a launched kernel never starts (never claims)
  bool claims = true;               // false: it starts but never claims (stepped mode)
  bool stops_on_shutdown = true;    // false: a stalled kernel ignores shutdown (hung)
  bool finish_stall_on_stop = true; // a stopping kernel completes the stalled item first
  int workgroups = 0;               // > 0: threaded mode with this many claiming threads
  std::uint32_t retire_every = 0;   // stepped: exit (retire) after this many claims per launch
  bool budget_fault_next = false;   // stepped: the next finished slot reports STATUS_BUDGET
  std::chrono::milliseconds hang_ms{0};  // threaded: how long a stall-2 item outlasts the stop request

  // ---- what happened ----
  std::vector<bool> launches;       // fresh flag of each launch
  std::vector<std::vector<PackedItem>> fallbacks;
  std::vector<bool> fallback_sequential;
  std::atomic<std::uint64_t> claimed_total{0};

  void release() { stall_open_.store(true); }
  void close_stall() { stall_open_.store(false); }
  bool running() const { return running_.load(); }
  // Stepped mode: the kernel stops (a hung kernel that finally ends).
  void stop() {
    join();
    running_.store(false);
  }

  // ---- PersistentDriver ----
  void launch(const KernelImpl& /*k*/, bool fresh) override {
    join();
    if (fresh) head_.store(0);
    retire_.store(0);
    launches.push_back(fresh);
    claims_this_launch_ = 0;
    stalled_ = false;  // a new kernel: the previous one (and its stuck workgroup) ended
    running_.store(true);
    if (!starts) return;
    word(SPOOL_RING_STARTED)++;
    if (workgroups > 0) {
      live_.store(workgroups);
      for (int i = 0; i < workgroups; ++i) threads_.emplace_back([this] { workgroup_loop(); });
    }
  }
  KernelRun poll(std::string* /*why*/) override {
    if (workgroups == 0 && running_.load() && starts) step();
    if (workgroups > 0 && running_.load() && live_.load() == 0) {
      join();
      running_.store(false);
    }
    return running_.load() ? KernelRun::running : KernelRun::stopped;
  }
  KernelRun wait(std::chrono::milliseconds timeout, std::string* why) override {
    if (workgroups > 0) {
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (live_.load() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      return poll(why);
    }
    if (running_.load() && stops_on_shutdown) {
      if (stalled_ && finish_stall_on_stop) {
        finish(stalled_seq_, SPOOL_RING_STATUS_OK);
        stalled_ = false;
      }
      step();
      running_.store(false);
    }
    return poll(why);
  }
  void run_fallback(const KernelImpl& /*k*/, std::span<const PackedItem> items, bool sequential) override {
    fallbacks.emplace_back(items.begin(), items.end());
    fallback_sequential.push_back(sequential);
    for (const auto& it : items) {
      SimArgs a;
      std::memcpy(static_cast<void*>(&a), it.args, sizeof a);
      body_(a, it.begin, it.grid, true);
    }
  }
  std::uint32_t max_chunk(const KernelImpl& /*k*/) const override { return chunk; }

  // Stepped mode: one simulated workgroup claims and runs what it can.
  void step() {
    if (!claims) return;
    if (stalled_) {
      if (!stall_open_.load()) return;
      finish(stalled_seq_, SPOOL_RING_STATUS_OK);
      stalled_ = false;
    }
    for (;;) {
      if (ld(SPOOL_RING_SHUTDOWN) != 0) {
        running_.store(false);
        return;
      }
      const std::uint32_t h = head_.load();
      if (h == ld(SPOOL_RING_TAIL)) {
        if (ld(SPOOL_RING_PARK) != 0) running_.store(false);
        return;
      }
      if (!gate_open(h)) return;
      if (retire_every != 0 && claims_this_launch_ == retire_every) {
        running_.store(false);
        return;
      }
      head_.store(h + 1);
      ++claims_this_launch_;
      if (!run(h)) return;
    }
  }

  std::uint32_t& word(std::uint32_t w) { return ring_[w]; }

 private:
  std::uint32_t ld(std::uint32_t w) {
    return std::atomic_ref<std::uint32_t>(ring_[w]).load(std::memory_order_acquire);
  }
  std::uint32_t* slot(std::uint32_t seq) {
    const std::uint32_t cap = ring_[SPOOL_RING_CAPACITY];
    return ring_.data() + SPOOL_RING_CONTROL_WORDS + std::size_t{seq & (cap - 1)} * SPOOL_RING_SLOT_WORDS;
  }
  std::uint32_t* state(std::uint32_t seq) {
    const std::uint32_t cap = ring_[SPOOL_RING_CAPACITY];
    return ring_.data() + SPOOL_RING_CONTROL_WORDS + std::size_t{cap} * SPOOL_RING_SLOT_WORDS +
           std::size_t{seq & (cap - 1)} * SPOOL_RING_STATE_WORDS;
  }
  static std::uint32_t aload(std::uint32_t* w) {
    return std::atomic_ref<std::uint32_t>(*w).load(std::memory_order_acquire);
  }
  static void astore(std::uint32_t* w, std::uint32_t v) {
    std::atomic_ref<std::uint32_t>(*w).store(v, std::memory_order_release);
  }
  bool done(std::uint32_t seq) {
    return aload(state(seq) + SPOOL_RING_DONE) == SPOOL_RING_TAG(seq) ||
           aload(slot(seq) + SPOOL_RING_SEQTAG) != SPOOL_RING_TAG(seq);
  }
  bool gate_open(std::uint32_t h) {
    // A peek before the claim: the slot may be reused under us (the claim's
    // CAS then fails), so its words are read atomically.
    std::uint32_t* s = slot(h);
    if ((aload(s + SPOOL_RING_FLAGS) & SPOOL_RING_FLAG_GATE) == 0) return true;
    const std::uint32_t gate = aload(s + SPOOL_RING_GATE_SEQ);
    const std::uint32_t reclaim = ld(SPOOL_RING_RECLAIM);
    // A stale peek (slot h claimed and reused meanwhile) can read a gate
    // behind RECLAIM or from another generation: not open, retry with a
    // fresh HEAD (scanning from RECLAIM to it would wrap around 2^32; the
    // shader's and the CUDA leader's bounded scans stop at their gate).
    if (gate - reclaim > ring_[SPOOL_RING_CAPACITY]) return false;
    for (std::uint32_t q = reclaim; q != gate; ++q) {
      if (!done(q)) return false;
    }
    return true;
  }
  // Runs slot h; false when the item stalls the workgroup.
  bool run(std::uint32_t h) {
    std::uint32_t* s = slot(h);
    astore(state(h) + SPOOL_RING_CLAIM, SPOOL_RING_TAG(h));
    ++claimed_total;
    SimArgs a;
    std::memcpy(static_cast<void*>(&a), s + SPOOL_RING_ARGS, sizeof a);
    if (a.stall != 0 && !stall_open_.load()) {
      stalled_ = true;
      stalled_seq_ = h;
      body_(a, s[SPOOL_RING_BEGIN], s[SPOOL_RING_END], false);  // ran, but never marked done yet
      return false;
    }
    body_(a, s[SPOOL_RING_BEGIN], s[SPOOL_RING_END], false);
    finish(h, budget_fault_next ? SPOOL_RING_STATUS_BUDGET : SPOOL_RING_STATUS_OK);
    budget_fault_next = false;
    return true;
  }
  void finish(std::uint32_t h, std::uint32_t status) {
    astore(state(h) + SPOOL_RING_STATUS, status);
    astore(state(h) + SPOOL_RING_DONE, SPOOL_RING_TAG(h));
    std::atomic_ref<std::uint32_t>(ring_[SPOOL_RING_DONE_COUNT]).fetch_add(1);
  }

  // Threaded mode: a workgroup claims with a CAS on HEAD, like the shader.
  void workgroup_loop() {
    for (;;) {
      if (ld(SPOOL_RING_SHUTDOWN) != 0 || retire_.load() != 0) break;
      std::uint32_t h = head_.load();
      if (h == ld(SPOOL_RING_TAIL)) {
        if (ld(SPOOL_RING_PARK) != 0) break;
        std::this_thread::yield();
        continue;
      }
      if (!gate_open(h)) {
        std::this_thread::yield();
        continue;
      }
      if (!head_.compare_exchange_strong(h, h + 1)) continue;
      std::uint32_t* s = slot(h);
      astore(state(h) + SPOOL_RING_CLAIM, SPOOL_RING_TAG(h));
      ++claimed_total;
      SimArgs a;
      std::memcpy(static_cast<void*>(&a), s + SPOOL_RING_ARGS, sizeof a);
      if (a.stall != 0) {
        // Stuck until the host asks the kernel to stop (the watchdog fired).
        while (ld(SPOOL_RING_SHUTDOWN) == 0 && ld(SPOOL_RING_PARK) == 0) std::this_thread::yield();
        if (a.stall == 2) {
          const auto until = std::chrono::steady_clock::now() + hang_ms;
          while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
        }
      }
      body_(a, s[SPOOL_RING_BEGIN], s[SPOOL_RING_END], false);
      finish(h, SPOOL_RING_STATUS_OK);
    }
    live_.fetch_sub(1);
  }
  void join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  std::vector<std::uint32_t> ring_;
  Body body_;
  std::atomic<std::uint32_t> head_{0}, retire_{0};
  std::atomic<bool> running_{false};
  std::atomic<bool> stall_open_{false};
  std::atomic<int> live_{0};
  std::vector<std::thread> threads_;
  bool stalled_ = false;
  std::uint32_t stalled_seq_ = 0;
  std::uint32_t claims_this_launch_ = 0;
};

}  // namespace spool::test
