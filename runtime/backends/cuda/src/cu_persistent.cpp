// The `persistent` mode: a resident kernel polls the work-queue ring in
// mapped pinned host memory. The host pushes items (backpressure when full),
// an engine thread reaps finished slots, completes batches, parks the kernel
// when idle and runs the watchdog. Bookkeeping: cu_ring (tested without a GPU).
#include <algorithm>
#include <string>

#include "cu_check.hpp"
#include "cu_device.hpp"

namespace spool::cuda {

using Clock = std::chrono::steady_clock;

// Blocks of the persistent grid: what fits resident at once (occupancy x
// SMs), leaving a quarter of it as headroom for other work; never assumes
// all of them are co-resident.
std::uint32_t CuDeviceImpl::persistent_blocks(const CuKernelImpl& k) {
  if (popts_.blocks != 0) return popts_.blocks;
  const int per_sm = k.persistent_occupancy();
  const std::uint32_t sms = std::max<std::uint32_t>(info_.limits.compute_units, 1);
  const std::uint32_t fit = static_cast<std::uint32_t>(std::max(per_sm, 1)) * sms;
  return std::max<std::uint32_t>(1, fit - fit / 4);
}

bool CuDeviceImpl::kernel_exited_locked() const {
  const cudaError_t e = cudaStreamQuery(pstream_.get());
  if (e == cudaSuccess) return true;
  if (e == cudaErrorNotReady) return false;
  throw_cuda(e, "cudaStreamQuery(pstream_)", __FILE__, __LINE__);
}

void CuDeviceImpl::start_persistent_locked(const CuKernelImpl& k) {
  book_->reset(popts_.idle_limit);  // the queue is empty here
  launch_persistent_locked(k, false);
}

// Launches the persistent kernel over the ring as it is (published items
// stay queued: the kernel resumes at `head`).
void CuDeviceImpl::launch_persistent_locked(const CuKernelImpl& k, bool parking) {
  DeviceScope scope(ordinal_);
  check_pending(__FILE__, __LINE__, !borrowed_);
  book_->set_shutdown(false);
  book_->set_park(parking);
  last_progress_ = Clock::now();
  if (resident_ != &k || blocks_ == 0) blocks_ = persistent_blocks(k);
  k.launch_persistent(ring_device_, blocks_, pstream_.get());
  resident_ = &k;
}

bool CuDeviceImpl::relaunch_if_exited_locked(bool parking) {
  if (resident_ == nullptr || !kernel_exited_locked()) return false;
  book_->reap();
  if (book_->outstanding() == 0) {
    resident_ = nullptr;
    return true;
  }
  launch_persistent_locked(*resident_, parking);
  return true;
}

void CuDeviceImpl::park_locked(std::unique_lock<std::mutex>& lk) {
  if (resident_ == nullptr) return;
  book_->set_park(true);
  engine_cv_.notify_all();
  while (resident_ != nullptr) {
    relaunch_if_exited_locked(true);
    if (resident_ == nullptr) break;
    space_cv_.wait_for(lk, std::chrono::microseconds(200));
  }
}

void CuDeviceImpl::push_persistent(const CuKernelImpl& k, const backend::ExecRequest& req,
                                   backend::Completion done) {
  std::unique_lock lk(mu_);
  if (hung_) {
    throw Error(Errc::device_lost, "the device's persistent kernel is hung; no work can be queued",
                "execute", {}, __FILE__, __LINE__);
  }
  RingTracker& t = book_->add_tracker(&k, req.items, std::move(done), resident_ == &k);
  const auto n = static_cast<std::uint32_t>(t.items.size());
  for (std::uint32_t pos = 0; pos < n; ++pos) {
    if (resident_ != &k) {
      if (resident_ != nullptr) park_locked(lk);
      if (hung_) break;
      start_persistent_locked(k);
    }
    while (book_->full()) {  // backpressure: wait, never drop
      engine_cv_.notify_all();
      space_cv_.wait_for(lk, std::chrono::microseconds(100));
      if (book_->reap()) last_progress_ = Clock::now();
    }
    if (resident_ != &k) {
      --pos;  // the watchdog or a park intervened: restart, then retry this item
      continue;
    }
    if (pos == 0 || (pos & 63) == 0) book_->set_park(false);
    book_->publish(t, pos, req.sequential, k.desc().arg_block_size);
  }
  lk.unlock();
  engine_cv_.notify_all();
}

// The watchdog fired: stop the kernel, revoke unclaimed items, account for
// every outstanding item, re-run the revoked ones by launches, reset.
void CuDeviceImpl::recover_locked() {
  book_->set_shutdown(true);
  book_->revoke_unclaimed();
  const auto grace = std::chrono::milliseconds(std::max<std::uint32_t>(popts_.watchdog_ms, 100));
  const auto deadline = Clock::now() + grace;
  bool stopped = false;
  while (true) {
    const cudaError_t e = cudaStreamQuery(pstream_.get());
    if (e == cudaSuccess) {
      stopped = true;
      break;
    }
    if (e != cudaErrorNotReady) {
      // The kernel faulted: it has stopped, but the context is gone; items
      // are failed below (revoked ones cannot be re-run on a dead context).
      break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  auto rerun = book_->account_outstanding(stopped);
  if (!stopped) hung_ = true;
  resident_ = nullptr;
  for (auto& r : rerun) {
    try {
      check_pending(__FILE__, __LINE__, !borrowed_);
      // On Spool's own stream: the batch is not done until these ran, and
      // the application's stream may hold work queued after it.
      const auto res =
          run_launches(*static_cast<const CuKernelImpl*>(r.tracker->kernel), r.items, own_stream_.get());
      RingBook::credit_rerun(r, res.items_run, nullptr);
    } catch (const Error& e) {
      const std::string why = e.what();
      RingBook::credit_rerun(r, 0, &why);
    }
  }
  book_->finish_recovery(stopped, popts_.idle_limit);
  last_progress_ = Clock::now();
  space_cv_.notify_all();
}

void CuDeviceImpl::park_persistent() {
  std::unique_lock lk(mu_);
  park_locked(lk);
  lk.unlock();
  engine_cv_.notify_all();
}

void CuDeviceImpl::engine_main() {
  std::unique_lock lk(mu_);
  if (cudaSetDevice(ordinal_) != cudaSuccess) (void)cudaGetLastError();
  auto idle_since = Clock::now();
  while (!stop_) {
    try {
      if (book_->reap()) {
        last_progress_ = Clock::now();
        space_cv_.notify_all();
      }
      if (hung_ && cudaStreamQuery(pstream_.get()) != cudaErrorNotReady) hung_ = false;  // it finally stopped
      const bool outstanding = book_->outstanding() != 0;
      if (outstanding) {
        idle_since = Clock::now();
        const auto stalled = Clock::now() - last_progress_;
        if (relaunch_if_exited_locked(false)) {
          // it had exited (parked or idle) just as items arrived; running again
        } else if (stalled > std::chrono::milliseconds(popts_.watchdog_ms)) {
          recover_locked();
        }
      } else if (resident_ != nullptr &&
                 Clock::now() - idle_since > std::chrono::microseconds(popts_.park_us)) {
        book_->set_park(true);
        relaunch_if_exited_locked(true);
      }
    } catch (const Error& e) {
      // A CUDA call of the engine failed (e.g. the context died): fail what is
      // queued rather than lose it, and stop using the persistent kernel.
      book_->fail_all(std::string("persistent queue failed: ") + e.what());
      resident_ = nullptr;
      hung_ = true;
    }
    if (book_->has_ready()) {
      auto ready = book_->take_ready();
      space_cv_.notify_all();
      lk.unlock();
      for (auto& [fn, res] : ready) fn(std::move(res));
      lk.lock();
      continue;
    }
    if (book_->outstanding() != 0) {
      lk.unlock();
      std::this_thread::yield();
      lk.lock();
    } else if (resident_ != nullptr) {
      engine_cv_.wait_for(lk, std::chrono::microseconds(popts_.park_us / 4 + 50));
    } else {
      engine_cv_.wait(lk, [&] { return stop_ || book_->outstanding() != 0 || book_->has_ready(); });
      idle_since = Clock::now();
    }
  }
}

}  // namespace spool::cuda
