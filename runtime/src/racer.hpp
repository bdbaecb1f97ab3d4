// Racer: speculative-variant racing wired to real dispatch, with the
// autotune store keeping winners across runs. Internal to the runtime.
//
// Per (kernel, source hash, shape bucket) the baseline is the store's winner,
// else the kernel's default variant; the speculative variant is the next
// candidate (workgroup size) that is neither the baseline nor rejected. The
// candidates are the sizes the kernel declares (KernelDesc::race_workgroups:
// spool_add_kernels WORKGROUP_SIZES, CUDA block sizes), else the device's
// list (SPOOL_AUTOTUNE_WG); sizes above the device's limit are skipped.
// Batches alternate between the two; each batch's per-item time is an
// observation for its side (in the store, so a race resumes where it left
// off). policy::evaluate_speculation decides: Adopt makes the speculative
// variant the winner (the displaced baseline is rejected), Reject marks it
// rejected; both move on to the next candidate. The first batch of each
// variant in a process is a warm-up, not an observation (llvmpipe compiles a
// pipeline's code at its first dispatch); the side-compile cost is the
// measured pipeline build time. A race still inconclusive
// after kMaxRaceDispatches per side rejects the candidate.
// SPOOL_AUTOTUNE=off|race|frozen; candidates from SPOOL_AUTOTUNE_WG.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "spool/backend/backend.hpp"

namespace spool {

enum class AutotuneMode : std::uint8_t { off, race, frozen };

struct RacePick {
  std::shared_ptr<backend::KernelImpl> kernel;  // the variant to run (null: run as requested)
  std::string role;                             // "baseline" | "speculative" | "" (not racing)
  autotune::KernelKey key;
  autotune::ShapeBucket bucket;
  std::uint32_t items = 0;
};

class Racer {
 public:
  static constexpr std::uint32_t kMaxRaceDispatches = 64;
  // Builds another variant of a tunable kernel (DeviceImpl::load_variant).
  using Loader = std::function<std::shared_ptr<backend::KernelImpl>(const backend::KernelImpl& kernel,
                                                                     std::uint32_t workgroup)>;
  // candidates: for kernels that declare none; max_workgroup: the device's limit.
  Racer(std::shared_ptr<autotune::Store> store, autotune::DeviceKey device, AutotuneMode mode,
        Loader loader, std::vector<std::uint32_t> candidates,
        std::uint32_t max_workgroup = 0xffffffffu);

  // Which variant this batch runs. Never throws: a failing store or loader
  // makes the batch run as requested; the first such failure is reported
  // through the log (racing is an optimisation: it must not fail the user's batch).
  RacePick pick(const std::shared_ptr<backend::KernelImpl>& requested, std::uint32_t items,
                std::uint32_t max_grid);
  struct Outcome {
    std::string verdict;  // "keep_racing" | "adopt" | "reject" | "" (not racing)
    std::string baseline, speculative;
    autotune::Observation baseline_obs, speculative_obs;
  };
  // Folds in a finished batch and says where the race stands.
  Outcome observe(const RacePick& p, double per_item_ns);

 private:
  struct Race {
    bool loaded = false;
    std::string baseline;  // variant string
    std::uint32_t baseline_wg = 0;
    std::vector<std::uint32_t> queue;  // candidates not yet raced
    std::shared_ptr<backend::KernelImpl> origin;  // the kernel as requested: variants are built from it
    std::shared_ptr<backend::KernelImpl> baseline_kernel, spec_kernel;
    std::string spec;
    double spec_compile_ns = 0;
    std::uint64_t turn = 0;
    std::set<std::string> warmed;  // variants whose warm-up batch has run
  };
  void next_candidate(Race& r);
  std::shared_ptr<backend::KernelImpl> load(const backend::KernelImpl& origin, std::uint32_t wg);

  std::shared_ptr<autotune::Store> store_;
  autotune::DeviceKey device_;
  AutotuneMode mode_;
  Loader loader_;
  std::vector<std::uint32_t> candidates_;
  std::uint32_t max_workgroup_;
  mutable std::mutex mu_;
  std::map<std::string, Race> races_;
  void report(const std::exception& e);  // callers hold mu_
  void report_stale(const autotune::KernelKey& k);
  bool reported_ = false;
};

// "wg=64" -> 64; 0 when the string is not a workgroup variant.
std::uint32_t workgroup_of(const std::string& variant) noexcept;

}  // namespace spool
