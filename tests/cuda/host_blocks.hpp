// The CUDA persistent loop's leader (spool/cuda/ring_leader.hpp) on the
// host: HostMem gives it std::atomic_ref in place of cuda::atomic_ref, and
// HostBlocks runs it in threads standing for the blocks of a resident kernel,
// as the core's persistent queue's driver. HostBlocks does what the CUDA
// driver (cu_persistent.cpp) does with the device control block (zero it per
// dctl_reset) and what kernel_wrap.cuh's persistent_loop does per block
// (claim, run the body over the slot's [BEGIN, END), finish), so the tests
// exercise the real device-side protocol code against the real engine.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "spool/backend/persistent_queue.hpp"
#include "spool/backend/ring_abi.h"
#include "spool/cuda/ring_leader.hpp"

namespace spool::test {

struct HostMem {
  // Optional, per thread: runs instead of yielding in pause() (single-thread
  // tests use it to change the ring while a leader waits).
  static inline thread_local std::function<void()> pause_hook;
  static inline thread_local std::uint64_t pauses = 0;
  static inline thread_local std::uint64_t sys_reads = 0;  // loads of the (mapped) ring

  static std::uint32_t load_sys(std::uint32_t* p) {
    ++sys_reads;
    return std::atomic_ref<std::uint32_t>(*p).load(std::memory_order_acquire);
  }
  static std::uint32_t peek_sys(std::uint32_t* p) {
    ++sys_reads;
    return std::atomic_ref<std::uint32_t>(*p).load(std::memory_order_relaxed);
  }
  static void store_sys(std::uint32_t* p, std::uint32_t v) {
    std::atomic_ref<std::uint32_t>(*p).store(v, std::memory_order_release);
  }
  static void add_dev(std::uint32_t* p, std::uint32_t v) {
    std::atomic_ref<std::uint32_t>(*p).fetch_add(v, std::memory_order_relaxed);
  }
  static std::uint32_t load_dev(std::uint32_t* p) {
    return std::atomic_ref<std::uint32_t>(*p).load(std::memory_order_acquire);
  }
  static void store_dev(std::uint32_t* p, std::uint32_t v) {
    std::atomic_ref<std::uint32_t>(*p).store(v, std::memory_order_release);
  }
  static bool cas_dev(std::uint32_t* p, std::uint32_t expected, std::uint32_t desired) {
    return std::atomic_ref<std::uint32_t>(*p).compare_exchange_strong(expected, desired, std::memory_order_acq_rel,
                                                                      std::memory_order_acquire);
  }
  static void pause(std::uint32_t /*ns*/) {
    ++pauses;
    if (pause_hook) {
      pause_hook();
    } else {
      std::this_thread::yield();
    }
  }
};

using HostLeader = cuda::ring::Leader<HostMem>;

struct HostKernel final : backend::KernelImpl {
  backend::KernelDesc d;
  explicit HostKernel(std::uint32_t arg_bytes = 8) {
    d.name = "host";
    d.arg_block_size = arg_bytes;
    d.has_persistent = true;
  }
  const backend::KernelDesc& desc() const noexcept override { return d; }
};

class HostBlocks final : public backend::PersistentDriver {
 public:
  // (args, begin, end, item, by_fallback): one range of an item ran.
  using Body = std::function<void(const std::byte*, std::uint32_t, std::uint32_t, std::uint32_t, bool)>;

  HostBlocks(std::uint32_t capacity, int blocks, Body body)
      : capacity_(capacity),
        blocks_(blocks),
        ring_(backend::PersistentQueue::ring_bytes(capacity) / 4, 0),
        dctl_(cuda::ring::dctl_words(capacity), 0xdeadbeefu),  // garbage until the first fresh launch
        body_(std::move(body)) {}
  ~HostBlocks() override { join(); }

  std::uint32_t* ring() { return ring_.data(); }
  std::uint32_t* dctl() { return dctl_.data(); }
  std::uint32_t chunk = 0;
  // > 0: a block sets RETIRE after running this many slots, so the kernel
  // exits with work queued and the queue resumes it over the same ring.
  std::uint32_t retire_after = 0;
  std::vector<bool> launches;  // fresh flag of each launch

  void launch(const backend::KernelImpl& /*k*/, bool fresh) override {
    join();
    const cuda::ring::DctlReset z = cuda::ring::dctl_reset(capacity_, fresh);
    std::memset(reinterpret_cast<std::byte*>(dctl_.data()) + z.offset_bytes, 0, z.bytes);
    launches.push_back(fresh);
    live_.store(blocks_);
    for (int b = 0; b < blocks_; ++b) threads_.emplace_back([this] { block_main(); });
  }
  backend::KernelRun poll(std::string* /*why*/) override {
    if (live_.load() != 0) return backend::KernelRun::running;
    join();
    return backend::KernelRun::stopped;
  }
  backend::KernelRun wait(std::chrono::milliseconds timeout, std::string* why) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (live_.load() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return poll(why);
  }
  void run_fallback(const backend::KernelImpl& /*k*/, std::span<const backend::PackedItem> items,
                    bool /*sequential*/) override {
    for (const auto& it : items) body_(it.args, it.begin, it.grid, it.index, true);
  }
  std::uint32_t max_chunk(const backend::KernelImpl& /*k*/) const override { return chunk; }

 private:
  // kernel_wrap.cuh's persistent_loop, one thread per block.
  void block_main() {
    HostLeader lead;
    lead.init(ring_.data(), dctl_.data(), static_cast<std::uint32_t>(blocks_));
    lead.enter();
    std::uint32_t ran = 0;
    for (;;) {
      const cuda::ring::Claim c = lead.next();
      if (!c.run) break;
      std::uint32_t slot[SPOOL_RING_SLOT_WORDS];
      const std::uint32_t* s = lead.slot(c.seq);
      for (std::uint32_t w = 0; w < SPOOL_RING_SLOT_WORDS; ++w) {
        slot[w] = std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(s[w])).load(std::memory_order_relaxed);
      }
      body_(reinterpret_cast<const std::byte*>(slot + SPOOL_RING_ARGS), slot[SPOOL_RING_BEGIN], slot[SPOOL_RING_END],
            slot[SPOOL_RING_ITEM], false);
      lead.finish(c.seq, SPOOL_RING_STATUS_OK);
      if (retire_after != 0 && ++ran == retire_after) HostMem::store_dev(dctl_.data() + SPOOL_RING_DCTL_RETIRE, 1);
    }
    lead.leave();
    live_.fetch_sub(1);
  }
  void join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  std::uint32_t capacity_;
  int blocks_;
  std::vector<std::uint32_t> ring_;
  std::vector<std::uint32_t> dctl_;
  Body body_;
  std::atomic<int> live_{0};
  std::vector<std::thread> threads_;
};

}  // namespace spool::test
