#include "racer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <string>

#include "report_once.hpp"
#include "spool/log.hpp"
#include "spool/policy/speculation.hpp"

namespace spool {

namespace {

std::string race_id(const autotune::KernelKey& k, autotune::ShapeBucket b) {
  return k.kernel + "|" + k.source_hash + "|" + std::to_string(b.log2_items) + "|" +
         std::to_string(b.log2_grid);
}

std::uint32_t clamp_u32(std::uint64_t v) { return v > 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(v); }

std::uint64_t to_ns(double v) { return v > 0 ? static_cast<std::uint64_t>(std::llround(v)) : 0; }

}  // namespace

std::uint32_t workgroup_of(const std::string& variant) noexcept {
  if (variant.rfind("wg=", 0) != 0) return 0;
  char* end = nullptr;
  const unsigned long v = std::strtoul(variant.c_str() + 3, &end, 10);
  return (*end == '\0' || *end == ',') && v <= 0xffffffffu ? static_cast<std::uint32_t>(v) : 0;
}

Racer::Racer(std::shared_ptr<autotune::Store> store, autotune::DeviceKey device, AutotuneMode mode,
             Loader loader, std::vector<std::uint32_t> candidates, std::uint32_t max_workgroup)
    : store_(std::move(store)),
      device_(std::move(device)),
      mode_(mode),
      loader_(std::move(loader)),
      candidates_(std::move(candidates)),
      max_workgroup_(max_workgroup) {}

void Racer::report(const std::exception& e) {
  if (reported_) return;
  reported_ = true;
  log(LogLevel::warn, std::string("autotune: ") + e.what() +
                          " (the batch ran as requested; later autotune errors are not shown)");
}

// Rows of this kernel measured under another driver, API or Spool version or
// another source hash: never used; reported once per process and kernel key.
void Racer::report_stale(const autotune::KernelKey& k) {
  if (!detail::first_report("kernel|" + store_->path() + "|" + device_.backend + "|" + device_.uuid + "|" +
                            device_.name + "|" + k.kernel + "|" + k.source_hash)) {
    return;
  }
  const autotune::StaleReport r = store_->stale(device_, k);
  const std::uint64_t rows = r.stale_observations + r.stale_winners + r.stale_rejections;
  if (mode_ == AutotuneMode::race) store_->record_current(device_, k);
  if (rows == 0) return;
  std::string why;
  for (const auto& reason : r.reasons) {
    if (reason.find(" for the launch profile of ") == std::string::npos) why += (why.empty() ? "" : "; ") + reason;
  }
  log(LogLevel::warn, "autotune store " + store_->path() + ": " + std::to_string(rows) + " stale rows of kernel '" +
                          k.kernel + "' are not used (" + why + "); `spool autotune list` marks them");
}

// A variant this device cannot build (e.g. too large a workgroup) is skipped.
std::shared_ptr<backend::KernelImpl> Racer::load(const backend::KernelImpl& origin, std::uint32_t wg) {
  try {
    return loader_(origin, wg);
  } catch (const std::exception& e) {
    report(e);
    return nullptr;
  }
}

// Moves to the next candidate that is neither the baseline nor rejected.
void Racer::next_candidate(Race& r) {
  r.spec.clear();
  r.spec_kernel.reset();
  r.turn = 0;
  while (!r.queue.empty()) {
    const std::uint32_t wg = r.queue.front();
    r.queue.erase(r.queue.begin());
    if (wg == r.baseline_wg) continue;
    auto k = load(*r.origin, wg);
    if (!k) continue;
    r.spec = k->desc().variant;
    r.spec_kernel = std::move(k);
    r.spec_compile_ns = r.spec_kernel->desc().compile_ns;
    return;
  }
}

RacePick Racer::pick(const std::shared_ptr<backend::KernelImpl>& requested, std::uint32_t items,
                     std::uint32_t max_grid) {
  RacePick p;
  const auto& d = requested->desc();
  if (mode_ == AutotuneMode::off || !store_ || !d.tunable) return p;
  p.key = autotune::KernelKey{d.name, d.source_hash};
  p.bucket = autotune::bucket_for(items, max_grid);
  p.items = items;
  std::lock_guard lk(mu_);
  try {
    Race& r = races_[race_id(p.key, p.bucket)];
    if (!r.loaded) {
      r.loaded = true;
      r.origin = requested;
      report_stale(p.key);
      const auto winner = store_->winner(device_, p.key, p.bucket);
      r.baseline = d.variant;  // null baseline_kernel: run the kernel as requested
      r.baseline_wg = workgroup_of(d.variant);
      if (winner && *winner != d.variant && workgroup_of(*winner) != 0) {
        if (auto k = load(*requested, workgroup_of(*winner))) {
          r.baseline = *winner;
          r.baseline_wg = workgroup_of(*winner);
          r.baseline_kernel = std::move(k);
        }
      }
      if (mode_ == AutotuneMode::race) {
        for (std::uint32_t wg : d.race_workgroups.empty() ? candidates_ : d.race_workgroups) {
          if (wg == 0 || wg > max_workgroup_) continue;
          const std::string v = "wg=" + std::to_string(wg);
          if (v != r.baseline && !store_->is_rejected(device_, p.key, p.bucket, v)) r.queue.push_back(wg);
        }
        next_candidate(r);
      }
    }
    const bool racing = mode_ == AutotuneMode::race && r.spec_kernel != nullptr;
    if (!racing) {
      p.kernel = r.baseline_kernel;  // the winner, or null: as requested
      return p;
    }
    const bool spec_turn = (r.turn++ % 2) == 1;
    p.kernel = spec_turn ? r.spec_kernel : r.baseline_kernel;
    p.role = spec_turn ? "speculative" : "baseline";
  } catch (const std::exception& e) {
    report(e);
    p = RacePick{};
  }
  return p;
}

Racer::Outcome Racer::observe(const RacePick& p, double per_item_ns) {
  Outcome out;
  if (p.role.empty() || !(per_item_ns >= 0) || !std::isfinite(per_item_ns)) return out;
  std::lock_guard lk(mu_);
  try {
    Race& r = races_[race_id(p.key, p.bucket)];
    const std::string variant = p.role == "baseline" ? r.baseline : r.spec;
    if (variant.empty()) return out;
    out.verdict = "keep_racing";
    out.baseline = r.baseline;
    out.speculative = r.spec;
    if (r.warmed.insert(variant).second) return out;  // warm-up batch: not an observation
    store_->add_observation(device_, p.key, p.bucket, variant, per_item_ns);
    if (r.spec.empty()) return out;
    const auto b = store_->observation(device_, p.key, p.bucket, r.baseline);
    const auto s = store_->observation(device_, p.key, p.bucket, r.spec);
    if (b) out.baseline_obs = *b;
    if (s) out.speculative_obs = *s;
    if (!b || !s) return out;
    policy::SpeculationObservation o;
    o.baseline_dispatches = clamp_u32(b->count);
    o.baseline_mean_ns = to_ns(b->mean_ns);
    o.speculative_dispatches = clamp_u32(s->count);
    o.speculative_mean_ns = to_ns(s->mean_ns);
    // Observations are per item; so is the compile cost the policy amortises.
    o.side_compile_cost_ns = to_ns(r.spec_compile_ns / std::max<std::uint32_t>(p.items, 1));
    auto verdict = policy::decide_speculation(o);
    // A race that stays inconclusive (faster, but by less than the adoption
    // threshold) ends after kMaxRaceDispatches per side: not worth switching.
    if (verdict == policy::SpeculationVerdict::KeepRacing && o.baseline_dispatches >= kMaxRaceDispatches &&
        o.speculative_dispatches >= kMaxRaceDispatches) {
      verdict = policy::SpeculationVerdict::Reject;
    }
    if (verdict == policy::SpeculationVerdict::Adopt) {
      store_->set_winner(device_, p.key, p.bucket, r.spec);
      store_->reject(device_, p.key, p.bucket, r.baseline);  // it lost the race
      r.baseline = r.spec;
      r.baseline_wg = workgroup_of(r.spec);
      r.baseline_kernel = r.spec_kernel;
      next_candidate(r);
      if (r.spec_kernel == nullptr) store_->set_winner(device_, p.key, p.bucket, r.baseline);
    } else if (verdict == policy::SpeculationVerdict::Reject) {
      store_->reject(device_, p.key, p.bucket, r.spec);
      next_candidate(r);
      // Out of candidates: the baseline has beaten them all; keep it.
      if (r.spec_kernel == nullptr) store_->set_winner(device_, p.key, p.bucket, r.baseline);
    }
    out.verdict = std::string(policy::to_string(verdict));
  } catch (const std::exception& e) {
    report(e);
    out = Outcome{};
  }
  return out;
}

}  // namespace spool
