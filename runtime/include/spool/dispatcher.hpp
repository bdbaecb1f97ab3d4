// spool::Dispatcher — decides a launch mode per batch and executes it.
#pragma once

#include <memory>
#include <optional>

#include "spool/batch.hpp"
#include "spool/verdict.hpp"

namespace spool {

namespace detail {
struct SubmissionState;
}

// A handle on a submitted batch. wait() blocks until every item ran or was
// reported failed, and returns the verdict. Copyable; all copies share state.
class Submission {
 public:
  Submission() = default;
  explicit Submission(std::shared_ptr<detail::SubmissionState> s) : s_(std::move(s)) {}
  Verdict wait() const;  // a copy: the handle may be a temporary
  bool ready() const;
  explicit operator bool() const noexcept { return s_ != nullptr; }

 private:
  std::shared_ptr<detail::SubmissionState> s_;
};

struct SubmitOptions {
  std::optional<LaunchMode> force_mode;  // bypass the policy (benchmarks, tests)
};

}  // namespace spool

namespace spool {

namespace backend {
class DeviceImpl;
}
class TelemetrySink;
class LaunchModel;
class Racer;  // internal: autotune racing (runtime/src/racer.hpp)

// Per device. Thread-safe: several host threads may submit at once.
class Dispatcher {
 public:
  Dispatcher(backend::DeviceImpl& device, LaunchProfile calibrated,
             std::optional<LaunchMode> default_force, std::shared_ptr<Racer> racer = nullptr);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Chooses the mode (policy over the measured profile, unless forced),
  // executes the batch and returns a handle. Throws spool::Error for a batch
  // that cannot run (kernel of another device, forced mode unsupported).
  Submission submit(Batch batch, const SubmitOptions& options = {});

  LaunchProfile profile() const;
  void set_profile(LaunchProfile p);
  // Validation mode: after each batch, check the guards of its buffers
  // (spool/backend/guards.hpp); damage fails the verdict.
  void set_validate(bool on) noexcept;
  void add_sink(std::shared_ptr<TelemetrySink> sink);
  // Waiters stop calling into the device (it is being destroyed); they wait
  // for the completions it still delivers.
  void detach_device() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spool
