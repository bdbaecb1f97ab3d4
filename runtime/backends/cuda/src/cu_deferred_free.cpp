#include "cu_deferred_free.hpp"

#include <utility>

namespace spool::cuda {

namespace {
thread_local bool tls_releasing = false;  // this thread runs releases now
}  // namespace

DeferredFrees::~DeferredFrees() { stop_drainer(); }

void DeferredFrees::start_drainer() {
  std::lock_guard lk(mu_);
  if (drainer_.joinable()) return;
  drainer_stop_ = false;
  drainer_ = std::thread([this] { drainer_main(); });
}

void DeferredFrees::stop_drainer() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    drainer_stop_ = true;
    t = std::move(drainer_);
  }
  drain_cv_.notify_all();
  if (!t.joinable()) return;
  if (t.get_id() == std::this_thread::get_id()) {
    t.detach();  // the last reference went away inside a release: the loop ends by itself
  } else {
    t.join();
  }
}

void DeferredFrees::drainer_main() {
  std::unique_lock lk(mu_);
  for (;;) {
    drain_cv_.wait(lk, [&] { return drainer_stop_ || (!resident_ && !deferred_.empty()); });
    if (drainer_stop_) return;
    std::vector<Release> batch = std::move(deferred_);
    deferred_.clear();
    run(batch, lk);
  }
}

void DeferredFrees::run(std::vector<Release>& batch, std::unique_lock<std::mutex>& lk) {
  ++running_;
  lk.unlock();
  const bool outer = !tls_releasing;
  tls_releasing = true;
  for (auto& r : batch) {
    try {
      r();
    } catch (...) {
    }
  }
  batch.clear();  // what the releases captured goes now, still outside the lock
  if (outer) tls_releasing = false;
  lk.lock();
  if (--running_ == 0) idle_cv_.notify_all();
}

void DeferredFrees::release(Release r) {
  std::unique_lock lk(mu_);
  if (resident_) {
    deferred_.push_back(std::move(r));
    return;
  }
  std::vector<Release> batch = std::move(deferred_);
  deferred_.clear();
  batch.push_back(std::move(r));
  run(batch, lk);
}

void DeferredFrees::launching() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return running_ == 0; });
  resident_ = true;
}

void DeferredFrees::stopped() {
  std::lock_guard lk(mu_);
  if (!resident_) return;
  resident_ = false;
  if (!deferred_.empty()) drain_cv_.notify_all();
}

std::size_t DeferredFrees::drain() {
  std::unique_lock lk(mu_);
  if (resident_) return 0;
  std::vector<Release> batch = std::move(deferred_);
  deferred_.clear();
  const std::size_t n = batch.size();
  if (n != 0) run(batch, lk);
  // Releases the drainer (or another thread) took are finished too, unless
  // this is called from inside a release (it would wait for itself).
  if (!tls_releasing) idle_cv_.wait(lk, [&] { return running_ == 0 || resident_; });
  return n;
}

bool DeferredFrees::resident() const {
  std::lock_guard lk(mu_);
  return resident_;
}

std::size_t DeferredFrees::deferred() const {
  std::lock_guard lk(mu_);
  return deferred_.size();
}

}  // namespace spool::cuda
