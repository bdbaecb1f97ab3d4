// The leader of a persistent CUDA block: the one thread of a block that
// claims slots of the work-queue ring (layout and protocol:
// spool/backend/ring_abi.h, the same as the Vulkan wrapper's) for its block.
// Written once and instantiated twice: on the device by
// spool/cuda/kernel_wrap.cuh (system- and device-scope cuda::atomic_ref),
// and on the host by the tests (std::atomic_ref, threads as blocks), which
// run it against the core's PersistentQueue. Plain C++17, no CUDA headers.
//
// Memory:
//  - the ring is mapped pinned host memory: the host line and the slots are
//    written by the host, the device line and the slot states by the device,
//    each on its own 128-byte lines (the ABI's layout);
//  - the device control block (dctl) is device memory (cudaMalloc), written
//    only by the device: HEAD and RETIRE as the ABI says, then words private
//    to CUDA (below). HEAD is claimed with a device-scope compare-and-swap.
//  - no read-modify-write ever touches the ring: without
//    cudaDevAttrHostNativeAtomicSupported (an H200 on PCIe has none) an
//    atomic on mapped host memory is not allowed (compute-sanitizer memcheck:
//    "Invalid __global__ system-scoped atomic"). The device line's counters
//    RUNNING and DONE_COUNT live in dctl instead (device atomics; the host
//    never reads them), and STARTED is bumped with a plain load and store:
//    every block stores a value at least one above what the ring held at
//    launch, which is all the host's start-up check asks (it changed), not
//    an exact count.
//
// PCIe economy (a read of mapped memory is a round trip over the bus):
//  - TAIL_SEEN: the highest TAIL a leader has read, kept in device memory.
//    Leaders decide "is there work" from it (an L2 read); when it says no,
//    only every `stride`-th idle poll of a leader reads TAIL (and PARK,
//    SHUTDOWN) from the host, so a few hundred idle leaders issue a few
//    million bus reads per second at most, not one each per poll;
//  - DONE mirror: per slot, the tag of its last finished occupant, in device
//    memory. Gates (FLAG_GATE: claim only when every earlier slot is done)
//    are evaluated from it, not from the host-visible DONE tags.
//
// Claim sequence of a leader (before every claim: RETIRE, SHUTDOWN):
//   h = HEAD; if TAIL_SEEN - h > 0 (slot h is published): read FLAGS and
//   GATE_SEQ of slot h (once per h); with FLAG_GATE wait (back off) until
//   every seq < GATE_SEQ is done; exit on SHUTDOWN; CAS HEAD h -> h+1; the
//   winner stores CLAIM = tag(h) and runs slot h's range [BEGIN, END).
// Finish: STATUS, then the DONE mirror, then DONE = tag(h) (release, system
// scope): the mirror is ordered before the host can see the slot done and
// reuse it, so a newer occupant's mirror entry is never overwritten by an
// older one.
//
// Why a gate needs only the mirror: when slot G was published, fewer than
// `capacity` slots were outstanding, so every seq <= G - capacity had been
// reclaimed (done); the slots in (G - capacity, G) each hold their own
// occupant's tag once done, or a newer occupant's (which the host published
// only after reclaiming them).
//
// Known cost (docs/GPU_RESULTS.md, an H200 on PCIe): every leader waiting
// for slot h reads its header over the bus before the compare-and-swap, so a
// claim costs as many bus reads as there are waiting leaders: with the
// default grid (264 blocks) ~145 us per one-index item, ~7 us with 16
// blocks, ~8 us with one. A claim lock (one reader per header) measured
// worse (~250 us: the waiters' SHUTDOWN reads then saturate the bus); see
// branch cuda-claim-lock. The policy learns these costs and picks launches
// or a recorded replay there.
//
// LOOP_BUDGET is 0 on CUDA (GPUs have no loop limit): the leader ignores it,
// never retires, and STATUS is always OK. HEARTBEAT is not kept (an atomic
// over the bus per poll; the queue's liveness check reads STARTED and the
// CLAIM tags instead).
#pragma once

#include <cstddef>
#include <cstdint>

#include "spool/backend/ring_abi.h"

#if defined(__CUDACC__)
#define SPOOL_RING_HD __host__ __device__
#define SPOOL_RING_LEADER_FN __device__ __forceinline__
#else
#define SPOOL_RING_HD
#define SPOOL_RING_LEADER_FN inline
#endif

namespace spool::cuda::ring {

// ---- the CUDA device control block (32-bit words) ----
// Words 0 and 1: SPOOL_RING_DCTL_HEAD and SPOOL_RING_DCTL_RETIRE.
inline constexpr std::uint32_t kDctlRunning = 2;    // blocks inside the loop now (diagnostic)
inline constexpr std::uint32_t kDctlDoneCount = 3;  // slots finished since the last fresh launch (diagnostic)
inline constexpr std::uint32_t kDctlTailSeen = 32;  // own 128-byte line: read by every idle leader
inline constexpr std::uint32_t kDctlDone = 64;      // `capacity` words: the DONE mirror

SPOOL_RING_HD constexpr std::size_t dctl_words(std::uint32_t capacity) noexcept {
  return kDctlDone + std::size_t{capacity};
}

// The bytes of the device control block a launch zeroes: all of it when the
// ring is fresh (sequence numbers restart at 0), only RETIRE when the kernel
// resumes over the same ring (HEAD, TAIL_SEEN and the mirror stay valid).
struct DctlReset {
  std::size_t offset_bytes;
  std::size_t bytes;
};
SPOOL_RING_HD constexpr DctlReset dctl_reset(std::uint32_t capacity, bool fresh) noexcept {
  return fresh ? DctlReset{0, dctl_words(capacity) * 4}
               : DctlReset{std::size_t{SPOOL_RING_DCTL_RETIRE} * 4, 4};
}

// Idle polls between reads of the host line, for a grid of `blocks`: about
// 16 leaders' worth of bus reads per back-off period, whatever the grid.
SPOOL_RING_HD constexpr std::uint32_t poll_stride(std::uint32_t blocks) noexcept {
  const std::uint32_t s = blocks / 16u;
  return s < 1u ? 1u : (s > 32u ? 32u : s);
}

// Whether the DONE mirror word `v` says that sequence number `seq` is done:
// its own tag, or a newer occupant's of the same slot (tags keep 31 bits).
SPOOL_RING_HD constexpr bool mirror_done(std::uint32_t v, std::uint32_t seq) noexcept {
  return v != 0u && (((v >> 1) - seq) & 0x7fffffffu) < 0x40000000u;
}

struct Claim {
  bool run = false;       // false: the block exits
  std::uint32_t seq = 0;  // the claimed slot's sequence number
};

// `Mem` provides, as static functions:
//   load_sys(p)      acquire load, system scope (host-written words)
//   peek_sys(p)      relaxed load, system scope
//   store_sys(p, v)  release store, system scope (device-written ring words)
//   load_dev(p)      acquire load, device scope (dctl)
//   store_dev(p, v)  release store, device scope (dctl)
//   cas_dev(p, e, d) acq_rel compare-and-swap, device scope (dctl); true when it swapped
//   add_dev(p, v)    relaxed add, device scope (dctl counters)
//   pause(ns)        back off (__nanosleep on the device)
template <class Mem>
class Leader {
 public:
  static constexpr std::uint32_t kMinBackoffNs = 32;
  static constexpr std::uint32_t kMaxIdleBackoffNs = 4096;
  static constexpr std::uint32_t kMaxGateBackoffNs = 1024;
  static constexpr std::uint32_t kGateScan = 64;  // mirror words a gate check reads per poll

  SPOOL_RING_LEADER_FN void init(std::uint32_t* ring, std::uint32_t* dctl, std::uint32_t blocks) {
    ring_ = ring;
    dctl_ = dctl;
    const std::uint32_t cap = Mem::load_sys(ring + SPOOL_RING_CAPACITY);
    mask_ = cap - 1u;
    idle_limit_ = Mem::load_sys(ring + SPOOL_RING_IDLE_LIMIT);
    stride_ = poll_stride(blocks);
    polls_ = stride_ - 1u;  // the first idle poll reads the host line
    backoff_ = kMinBackoffNs;
    idle_ = 0;
    vdone_ = 0;
    peeked_ = false;
  }

  SPOOL_RING_LEADER_FN void enter() {
    Mem::store_sys(ring_ + SPOOL_RING_STARTED, Mem::peek_sys(ring_ + SPOOL_RING_STARTED) + 1u);
    Mem::add_dev(dctl_ + kDctlRunning, 1u);
  }
  SPOOL_RING_LEADER_FN void leave() { Mem::add_dev(dctl_ + kDctlRunning, 0xffffffffu); }

  SPOOL_RING_LEADER_FN std::uint32_t* slot(std::uint32_t seq) const {
    return ring_ + SPOOL_RING_CONTROL_WORDS + std::size_t{seq & mask_} * SPOOL_RING_SLOT_WORDS;
  }
  SPOOL_RING_LEADER_FN std::uint32_t* state(std::uint32_t seq) const {
    return ring_ + SPOOL_RING_CONTROL_WORDS + std::size_t{mask_ + 1u} * SPOOL_RING_SLOT_WORDS +
           std::size_t{seq & mask_} * SPOOL_RING_STATE_WORDS;
  }

  // Polls until this block owns a slot (run) or must exit.
  SPOOL_RING_LEADER_FN Claim next() {
    for (;;) {
      if (Mem::load_dev(dctl_ + SPOOL_RING_DCTL_RETIRE) != 0u) return Claim{};
      const std::uint32_t h = Mem::load_dev(dctl_ + SPOOL_RING_DCTL_HEAD);
      const std::uint32_t seen = Mem::load_dev(dctl_ + kDctlTailSeen);
      if (static_cast<std::int32_t>(seen - h) <= 0) {
        if (++polls_ >= stride_) {
          polls_ = 0;
          const std::uint32_t tail = Mem::load_sys(ring_ + SPOOL_RING_TAIL);
          if (static_cast<std::int32_t>(tail - seen) > 0) {
            raise_seen(tail);
            busy();
            continue;
          }
          // Nothing left to claim: PARK means exit now; SHUTDOWN always does.
          if (Mem::peek_sys(ring_ + SPOOL_RING_SHUTDOWN) != 0u || Mem::peek_sys(ring_ + SPOOL_RING_PARK) != 0u) {
            return Claim{};
          }
        }
        if (++idle_ >= idle_limit_) return Claim{};
        back_off(kMaxIdleBackoffNs);
        continue;
      }
      // Slot h is published. Its FLAGS and GATE_SEQ cannot change before
      // it is claimed: read them (with SHUTDOWN, one bus round trip) once.
      bool shutdown_fresh = false;
      std::uint32_t shutdown = 0;
      if (!peeked_ || peek_seq_ != h) {
        std::uint32_t* s = slot(h);
        shutdown = Mem::peek_sys(ring_ + SPOOL_RING_SHUTDOWN);
        peek_flags_ = Mem::peek_sys(s + SPOOL_RING_FLAGS);
        peek_gate_ = Mem::peek_sys(s + SPOOL_RING_GATE_SEQ);
        peek_seq_ = h;
        peeked_ = true;
        shutdown_fresh = true;
      }
      if ((peek_flags_ & SPOOL_RING_FLAG_GATE) != 0u && !gate_open(peek_gate_)) {
        // A predecessor is still running: wait, reading the host line only
        // every stride-th poll.
        if (!shutdown_fresh && ++polls_ >= stride_) {
          polls_ = 0;
          shutdown = Mem::peek_sys(ring_ + SPOOL_RING_SHUTDOWN);
        }
        if (shutdown != 0u) return Claim{};
        back_off(kMaxGateBackoffNs);
        continue;
      }
      if (!shutdown_fresh) shutdown = Mem::peek_sys(ring_ + SPOOL_RING_SHUTDOWN);
      if (shutdown != 0u) return Claim{};
      if (!Mem::cas_dev(dctl_ + SPOOL_RING_DCTL_HEAD, h, h + 1u)) continue;  // another block took it
      Mem::store_sys(state(h) + SPOOL_RING_CLAIM, SPOOL_RING_TAG(h));
      busy();
      return Claim{true, h};
    }
  }

  // The block ran slot `seq` (its writes are fenced at system scope).
  SPOOL_RING_LEADER_FN void finish(std::uint32_t seq, std::uint32_t status) {
    std::uint32_t* st = state(seq);
    Mem::store_sys(st + SPOOL_RING_STATUS, status);
    Mem::store_dev(dctl_ + kDctlDone + (seq & mask_), SPOOL_RING_TAG(seq));
    Mem::store_sys(st + SPOOL_RING_DONE, SPOOL_RING_TAG(seq));
    Mem::add_dev(dctl_ + kDctlDoneCount, 1u);
    if (vdone_ == seq) vdone_ = seq + 1u;
  }

 private:
  SPOOL_RING_LEADER_FN void busy() {
    idle_ = 0;
    backoff_ = kMinBackoffNs;
  }
  SPOOL_RING_LEADER_FN void back_off(std::uint32_t max_ns) {
    Mem::pause(backoff_);
    backoff_ = backoff_ >= max_ns ? max_ns : backoff_ * 2u;
  }
  SPOOL_RING_LEADER_FN void raise_seen(std::uint32_t tail) {
    std::uint32_t cur = Mem::load_dev(dctl_ + kDctlTailSeen);
    while (static_cast<std::int32_t>(tail - cur) > 0 && !Mem::cas_dev(dctl_ + kDctlTailSeen, cur, tail)) {
      cur = Mem::load_dev(dctl_ + kDctlTailSeen);
    }
  }
  // Every seq < gate done? vdone_: every seq before it is known done.
  SPOOL_RING_LEADER_FN bool gate_open(std::uint32_t gate) {
    const std::uint32_t floor = gate - mask_;  // gate - capacity + 1
    if (static_cast<std::int32_t>(floor - vdone_) > 0) vdone_ = floor;
    for (std::uint32_t n = 0; vdone_ != gate && n < kGateScan; ++n) {
      if (!mirror_done(Mem::load_dev(dctl_ + kDctlDone + (vdone_ & mask_)), vdone_)) return false;
      ++vdone_;
    }
    return vdone_ == gate;
  }

  std::uint32_t* ring_ = nullptr;
  std::uint32_t* dctl_ = nullptr;
  std::uint32_t mask_ = 0;
  std::uint32_t idle_limit_ = 0;
  std::uint32_t stride_ = 1;
  std::uint32_t polls_ = 0;
  std::uint32_t backoff_ = kMinBackoffNs;
  std::uint32_t idle_ = 0;
  std::uint32_t vdone_ = 0;
  bool peeked_ = false;  // peek_*: FLAGS and GATE_SEQ of slot peek_seq_
  std::uint32_t peek_seq_ = 0;
  std::uint32_t peek_flags_ = 0;
  std::uint32_t peek_gate_ = 0;
};

}  // namespace spool::cuda::ring
