// Dispatcher: decide (policy over the learned model), execute (backend),
// observe (model, telemetry), complete the handle.
#include "spool/dispatcher.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "guard_check.hpp"
#include "launch_model.hpp"
#include "racer.hpp"
#include "spool/backend/backend.hpp"
#include "spool/error.hpp"
#include "spool/telemetry.hpp"

namespace spool {

namespace {
std::uint64_t monotonic_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
}  // namespace

namespace detail {

// Lets a waiting thread move its device's asynchronous work forward
// (backend::DeviceImpl::poll_progress) while the device exists; detached
// before the device goes away.
class ProgressHook {
 public:
  explicit ProgressHook(backend::DeviceImpl* d) : dev_(d) {}
  void poll() {
    std::shared_lock lk(mu_);
    if (dev_ != nullptr) dev_->poll_progress();
  }
  void detach() {
    std::unique_lock lk(mu_);
    dev_ = nullptr;
  }

 private:
  std::shared_mutex mu_;
  backend::DeviceImpl* dev_;
};

struct SubmissionState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Verdict verdict;
  Batch batch;
  std::vector<backend::PackedItem, alloc::PoolAllocator<backend::PackedItem>> items;
  std::shared_ptr<ProgressHook> progress;  // asynchronous (persistent) batches only
  explicit SubmissionState(Batch b) : batch(std::move(b)) {}
};
}  // namespace detail

// An asynchronous batch's waiter reaps completions itself between short
// waits (2 us growing to 200 us): a small batch then completes as soon as
// the device finished it, not when the engine thread next looks.
Verdict Submission::wait() const {
  if (!s_) SPOOL_THROW(Errc::invalid_argument, "wait() on an empty spool::Submission");
  if (s_->progress) {
    std::chrono::microseconds nap(2);
    for (;;) {
      {
        std::lock_guard lk(s_->mu);
        if (s_->done) return s_->verdict;
      }
      s_->progress->poll();
      std::unique_lock lk(s_->mu);
      if (s_->cv.wait_for(lk, nap, [&] { return s_->done; })) return s_->verdict;
      nap = std::min(nap * 2, std::chrono::microseconds(200));
    }
  }
  std::unique_lock lk(s_->mu);
  s_->cv.wait(lk, [&] { return s_->done; });
  return s_->verdict;
}

bool Submission::ready() const {
  if (!s_) return false;
  {
    std::lock_guard lk(s_->mu);
    if (s_->done || !s_->progress) return s_->done;
  }
  s_->progress->poll();
  std::lock_guard lk(s_->mu);
  return s_->done;
}

struct Dispatcher::Impl {
  backend::DeviceImpl& dev;
  LaunchModel model;
  std::optional<LaunchMode> default_force;
  std::shared_ptr<Racer> racer;
  bool validate = false;
  std::mutex sinks_mu;
  std::vector<std::shared_ptr<TelemetrySink>> sinks;
  std::atomic<std::uint64_t> next_id{1};
  std::shared_ptr<detail::ProgressHook> progress;

  Impl(backend::DeviceImpl& d, LaunchProfile p, std::optional<LaunchMode> f, std::shared_ptr<Racer> r)
      : dev(d), model(std::move(p)), default_force(f), racer(std::move(r)),
        progress(std::make_shared<detail::ProgressHook>(&d)) {}

  void publish(const Verdict& v) {
    std::vector<std::shared_ptr<TelemetrySink>> copy;
    {
      std::lock_guard lk(sinks_mu);
      copy = sinks;
    }
    for (auto& s : copy) s->on_verdict(v);
  }
};

Dispatcher::Dispatcher(backend::DeviceImpl& device, LaunchProfile calibrated,
                       std::optional<LaunchMode> default_force, std::shared_ptr<Racer> racer)
    : impl_(std::make_unique<Impl>(device, std::move(calibrated), default_force, std::move(racer))) {}

Dispatcher::~Dispatcher() { impl_->progress->detach(); }

void Dispatcher::detach_device() noexcept { impl_->progress->detach(); }

LaunchProfile Dispatcher::profile() const { return impl_->model.profile(); }
void Dispatcher::set_profile(LaunchProfile p) { impl_->model.set_profile(std::move(p)); }
void Dispatcher::set_validate(bool on) noexcept { impl_->validate = on; }

void Dispatcher::add_sink(std::shared_ptr<TelemetrySink> sink) {
  if (!sink) SPOOL_THROW(Errc::invalid_argument, "add_sink: null telemetry sink");
  std::lock_guard lk(impl_->sinks_mu);
  impl_->sinks.push_back(std::move(sink));
}

Submission Dispatcher::submit(Batch batch, const SubmitOptions& options) {
  Impl& I = *impl_;
  const std::uint64_t submitted = monotonic_ns();
  if (batch.size() > 0xffffffffu) SPOOL_THROW(Errc::invalid_argument, "batch larger than 2^32-1 items");
  const std::uint32_t n = static_cast<std::uint32_t>(batch.size());
  // Autotune: the variant this batch runs (the stored winner, or a side of a
  // race). Variants share the kernel's SPIR-V, so the packed arguments fit.
  std::shared_ptr<backend::KernelImpl> run_kernel = batch.kernel().impl();
  RacePick race;
  if (I.racer && n > 0) {
    race = I.racer->pick(run_kernel, n, batch.max_grid());
    if (race.kernel) {  // null: the requested kernel is the variant to run
      if (race.kernel->desc().arg_block_size == run_kernel->desc().arg_block_size) {
        run_kernel = race.kernel;
      } else {
        race = RacePick{};
      }
    }
  }
  const auto& kd = run_kernel->desc();

  auto st = std::make_shared<detail::SubmissionState>(std::move(batch));
  Verdict& v = st->verdict;
  v.batch_id = I.next_id.fetch_add(1, std::memory_order_relaxed);
  v.submit_ns = submitted;
  v.unix_time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  v.device = I.dev.info().name;
  v.backend = to_string(I.dev.info().backend);
  v.kernel = kd.name;
  v.variant = kd.variant;
  v.items = n;
  v.max_grid = st->batch.max_grid();
  v.sequential = st->batch.ordering() == Ordering::sequential;
  v.race_role = race.role;

  const std::array<bool, 3> available{true, I.dev.supports(LaunchMode::recorded),
                                      I.dev.supports(LaunchMode::persistent) && kd.has_persistent};
  const bool resident = I.dev.persistent_resident(*run_kernel);
  const ModelKey key{kd.name + "/" + kd.variant, grid_bucket(v.max_grid), v.sequential};
  const auto force = options.force_mode ? options.force_mode : I.default_force;
  const Prediction pred = I.model.predict(key, n, resident, available, force.has_value());
  for (std::size_t m = 0; m < 3; ++m) {
    v.predicted_ns[m] = pred.decision.available[m] ? static_cast<double>(pred.decision.predicted_ns[m]) : -1.0;
  }
  v.kernel_ns_per_item = pred.kernel_ns;
  v.mode = pred.decision.mode;
  v.exploration = pred.explore;

  if (force) {
    const auto m = static_cast<std::size_t>(*force);
    if (!available[m]) {
      std::string why = std::string("mode '") + std::string(policy::to_string(*force)) +
                        "' is not available for kernel '" + kd.name + "' on " + v.device;
      if (!I.dev.supports(*force)) {
        why += ": " + I.dev.unsupported_reason(*force);
      } else if (*force == LaunchMode::persistent && !kd.has_persistent) {
        why += ": " + kd.persistent_unavailable_reason;
      }
      SPOOL_THROW(Errc::not_supported, why);
    }
    v.mode = *force;
    v.forced = true;
    v.exploration = false;
  }

  if (n == 0) {
    v.start_ns = v.end_ns = monotonic_ns();
    st->done = true;
    I.publish(v);
    return Submission(st);
  }

  st->items.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    st->items[i] = backend::PackedItem{st->batch.grid(i), i, st->batch.packed_args(i)};
  }
  backend::ExecRequest req{run_kernel.get(), st->items, v.sequential};
  const LaunchMode mode = v.mode;
  if (mode == LaunchMode::persistent) st->progress = I.progress;
  Impl* impl = impl_.get();
  // The state (and the variant) are kept alive by the completion until it runs.
  I.dev.execute(mode, req, [impl, st, key, mode, n, race, run_kernel](backend::ExecResult&& r) {
    Verdict& out = st->verdict;
    // wall_ns runs from the start of execution to completion (ExecResult).
    out.end_ns = monotonic_ns();
    const auto wall = r.wall_ns > 0 ? static_cast<std::uint64_t>(r.wall_ns) : 0;
    out.start_ns = std::max(out.submit_ns, out.end_ns > wall ? out.end_ns - wall : 0);
    out.measured_ns = r.wall_ns;
    out.items_run = r.items_run;
    out.items_failed = r.items_failed;
    out.watchdog_fired = r.watchdog_fired;
    out.fallback_items = r.fallback_items;
    out.persistent_was_resident = r.was_resident;
    out.parked_ns = r.parked_ns;
    out.failure = std::move(r.failure);
    // Validation mode: a batch that wrote outside its buffers is failed and
    // teaches neither the model nor the race.
    const bool in_bounds = !impl->validate || check_guards(st->batch, out);
    if (out.items_failed == 0 && !out.watchdog_fired && in_bounds) {
      Observation ob;
      ob.mode = mode;
      ob.n = n;
      ob.wall_ns = r.wall_ns;
      ob.device_ns = r.device_ns;
      ob.paid_start = mode == LaunchMode::persistent && !r.was_resident;
      ob.parked_ns = r.parked_ns;
      out.first_use_ns = impl->model.observe(key, ob, out.predicted_chosen_ns());
      if (impl->racer && !race.role.empty()) {
        const auto o = impl->racer->observe(race, r.wall_ns / n);
        out.race_verdict = o.verdict;
        out.race_baseline = o.baseline;
        out.race_speculative = o.speculative;
        out.race_baseline_count = o.baseline_obs.count;
        out.race_speculative_count = o.speculative_obs.count;
        out.race_baseline_mean_ns = o.baseline_obs.mean_ns;
        out.race_speculative_mean_ns = o.speculative_obs.mean_ns;
      }
    }
    impl->publish(out);
    {
      std::lock_guard lk(st->mu);
      st->done = true;
    }
    st->cv.notify_all();
  });
  return Submission(st);
}

}  // namespace spool
