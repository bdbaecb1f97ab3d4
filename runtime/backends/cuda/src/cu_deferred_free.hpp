// Releasing memory while a persistent kernel may be resident.
//
// cudaFree and cudaFreeHost synchronize with the device: they return only
// once the kernels running on it have finished, and a resident persistent
// kernel finishes only when the persistent queue parks it. The queue's
// engine thread delivers completions, and a completion may drop the last
// reference to a buffer; freeing there would wait for a kernel that only
// that same thread would park (until the kernel's idle limit, minutes). The
// same holds for any thread that holds the queue's lock, and for an
// application's keep-alive deleter (spool::cuda::wrap_device_pointer).
//
// So every release of device-visible memory goes through DeferredFrees:
//  - no persistent kernel resident: the release runs at once (and runs the
//    ones deferred before it); a kernel launch waits until such releases
//    are over, so none of them can end up waiting for a kernel;
//  - a kernel resident (launching() was called, stopped() not yet): the
//    release is kept, and runs once the kernel has stopped: on the drainer
//    thread (start_drainer(), woken by stopped()), or by drain(), which the
//    device calls where it holds no lock (after parking, when destroyed).
// A kernel that never stops (a hung device) keeps its deferred memory for
// good: it may still write it.
//
// Host-only logic, tested without a GPU (tests/cuda/deferred_free_test.cpp).
// A release must not submit work to the device (it would wait for itself).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace spool::cuda {

class DeferredFrees {
 public:
  using Release = std::function<void()>;

  DeferredFrees() = default;
  ~DeferredFrees();  // stops the drainer
  DeferredFrees(const DeferredFrees&) = delete;
  DeferredFrees& operator=(const DeferredFrees&) = delete;

  // Runs deferred releases on a thread of their own as soon as the kernel
  // has stopped. stop_drainer() ends it (releases stay possible: they then
  // run in release() or drain()).
  void start_drainer();
  void stop_drainer();

  // Runs `r` now (with the deferred ones) when no kernel is resident, else
  // keeps it. Exceptions from a release are swallowed (it runs in
  // destructors).
  void release(Release r);
  // A persistent kernel is about to be launched: waits for releases in
  // progress; later releases are deferred until stopped().
  void launching();
  // The persistent kernel has stopped (its stream is idle), or its launch
  // failed: releases run at once again, deferred ones at the next drain().
  void stopped();
  // Runs the deferred releases when no kernel is resident and waits for
  // releases other threads are running (not when called from a release);
  // how many it ran itself.
  std::size_t drain();

  bool resident() const;
  std::size_t deferred() const;

 private:
  void run(std::vector<Release>& batch, std::unique_lock<std::mutex>& lk);

  void drainer_main();

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;   // running_ dropped to 0
  std::condition_variable drain_cv_;  // wakes the drainer
  bool resident_ = false;
  bool drainer_stop_ = false;
  std::thread drainer_;
  std::uint32_t running_ = 0;        // threads running releases now
  std::vector<Release> deferred_;
};

}  // namespace spool::cuda
