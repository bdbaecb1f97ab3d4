// Lock for the backend's slow paths (never taken on the hot path): spins
// briefly, then sleeps on a futex, so that a thread whose lock holder was
// preempted (an oversubscribed machine) waits in the kernel instead of
// burning its time slice in sched_yield. Three states after Drepper's
// "Futexes are tricky": 0 free, 1 locked, 2 locked with waiters. No
// allocation; usable inside malloc and across fork (the fork handlers take and
// release every lock; reset() in the child).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace spool::alloc::detail {

class SpinLock {
 public:
  void lock() noexcept {
    std::uint32_t c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
    for (int spin = 0; spin < kSpins; ++spin) {
      pause();
      c = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_strong(c, 1, std::memory_order_acquire)) {
        return;
      }
    }
    // Announce a waiter (state 2) and sleep until the holder wakes us.
    c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      futex(FUTEX_WAIT_PRIVATE, 2);
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  bool try_lock() noexcept {
    std::uint32_t c = 0;
    return state_.load(std::memory_order_relaxed) == 0 &&
           state_.compare_exchange_strong(c, 1, std::memory_order_acquire);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) futex(FUTEX_WAKE_PRIVATE, 1);
  }
  // After fork, in the child: the lock was taken by the prepare handler.
  void reset() noexcept { state_.store(0, std::memory_order_relaxed); }

 private:
  static constexpr int kSpins = 100;

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  // errno is kept: a malloc that succeeds must not change it.
  void futex(int op, std::uint32_t val) noexcept {
    const int saved = errno;
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), op, val, nullptr, nullptr, 0);
    errno = saved;
  }

  std::atomic<std::uint32_t> state_{0};
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& l) noexcept : l_(l) { l_.lock(); }
  ~SpinGuard() { l_.unlock(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace spool::alloc::detail
