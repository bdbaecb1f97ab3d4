// Bounded multi-producer single-consumer ring of trivially copyable events
// (Box 3, Contract A + C). Storage is part of the object (pre-allocated,
// zero-initialised, constinit-able). push never waits: when the ring is full,
// or the slot stays contended for a few attempts, the event is dropped and
// counted. Events are copied in and copied out; nothing is referenced.
//
// Slot state `turn`: for position pos (lap = pos / N) the slot is free when
// turn == 2*lap and holds a published event when turn == 2*lap + 1. All-zero
// is therefore the valid empty state, which is also how reset() restores it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace spool::alloc::detail {

template <class T, std::size_t N>
class MpscRing {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert((N & (N - 1)) == 0, "N must be a power of two");

 public:
  // Never blocks. Returns false (and counts a drop) when the event is dropped.
  bool push(const T& value) noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      Slot& s = slots_[pos & (N - 1)];
      const std::uint64_t want = 2 * (pos / N);
      const std::uint64_t turn = s.turn.load(std::memory_order_acquire);
      if (turn == want) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          s.value = value;
          s.turn.store(want + 1, std::memory_order_release);
          pushed_.fetch_add(1, std::memory_order_relaxed);
          return true;
        }
      } else if (turn < want) {
        break;  // the consumer has not freed this slot yet: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  // Consumer only. Copies the next event out; false when none is ready.
  bool pop(T& out) noexcept {
    Slot& s = slots_[head_ & (N - 1)];
    const std::uint64_t lap = head_ / N;
    if (s.turn.load(std::memory_order_acquire) != 2 * lap + 1) return false;
    out = s.value;
    s.turn.store(2 * (lap + 1), std::memory_order_release);
    ++head_;
    return true;
  }

  // Only when no producer or consumer runs (after fork, in the child; tests).
  void reset() noexcept {
    for (auto& s : slots_) s.turn.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
    head_ = 0;
  }

  std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  static constexpr std::size_t capacity() noexcept { return N; }

 private:
  static constexpr int kMaxAttempts = 16;
  struct Slot {
    std::atomic<std::uint64_t> turn{0};
    T value{};
  };
  Slot slots_[N];
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::uint64_t head_ = 0;
  alignas(64) std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace spool::alloc::detail
