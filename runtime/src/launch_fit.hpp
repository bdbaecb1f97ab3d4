// A batch's wall time in one mode as a line, t(n) = a + b n, fitted online by
// exponentially weighted least squares. A prior (two pseudo-observations
// from the device's launch profile) keeps it defined before batches of two
// sizes have been seen and fades as real batches arrive. Internal.
#pragma once

#include <algorithm>
#include <cmath>

namespace spool {

class LaunchFit {
 public:
  static constexpr double kDecay = 0.94;      // weight of the past per observation (~16 batches)
  static constexpr double kPriorWeight = 0.5;  // of each pseudo-observation

  // Sets the prior line through (1, a + b) and (kPriorN, a + b kPriorN).
  void set_prior(double a, double b) {
    prior_a_ = std::max(0.0, a);
    prior_b_ = std::max(0.0, b);
    if (observations_ == 0) reset_to_prior();
  }

  // Once the line has data, one observation moves it at most as far as a
  // time kClip times (or 1/kClip of) its own prediction would: a single
  // outlier (a batch descheduled for milliseconds on a shared core) would
  // otherwise poison the line for dozens of batches, while a real change of
  // level still gets through within a few batches.
  static constexpr double kClip = 3.0;

  void add(double n, double t) {
    if (!(n > 0) || !(t >= 0) || !std::isfinite(t)) return;
    if (observations_ > 0) {
      const double p = predict(n);
      if (p > 0) t = std::clamp(t, p / kClip, p * kClip);
    }
    sw_ *= kDecay;
    sn_ *= kDecay;
    st_ *= kDecay;
    snn_ *= kDecay;
    snt_ *= kDecay;
    sw_ += 1;
    sn_ += n;
    st_ += t;
    snn_ += n * n;
    snt_ += n * t;
    ++observations_;
  }

  unsigned observations() const noexcept { return observations_; }

  // The fitted line at n (>= 0). When the sizes seen do not determine a
  // slope, the prior's slope is kept and the intercept fitted; the
  // intercept is never negative.
  double predict(double n) const {
    double a = prior_a_, b = prior_b_;
    line(a, b);
    return std::max(0.0, a + b * n);
  }
  double slope() const {
    double a = prior_a_, b = prior_b_;
    line(a, b);
    return b;
  }

 private:
  static constexpr double kPriorN = 256;

  void reset_to_prior() {
    sw_ = sn_ = st_ = snn_ = snt_ = 0;
    for (double n : {1.0, kPriorN}) {
      const double t = prior_a_ + prior_b_ * n;
      sw_ += kPriorWeight;
      sn_ += kPriorWeight * n;
      st_ += kPriorWeight * t;
      snn_ += kPriorWeight * n * n;
      snt_ += kPriorWeight * n * t;
    }
  }
  void line(double& a, double& b) const {
    if (sw_ <= 0) return;
    const double mn = sn_ / sw_, mt = st_ / sw_;
    const double var = snn_ / sw_ - mn * mn;
    if (var > 1e-9 * (1 + mn * mn)) {
      b = std::max(0.0, (snt_ / sw_ - mn * mt) / var);
    }
    a = mt - b * mn;
    // A wall time has no negative fixed part: when the free fit's intercept
    // is negative (sizes seen only far from n = 1), fit the line through the
    // origin instead, so small batches are never predicted free.
    if (a < 0 && snn_ > 0) {
      a = 0;
      b = std::max(0.0, snt_ / snn_);
    }
  }

  double prior_a_ = 0, prior_b_ = 0;
  double sw_ = 0, sn_ = 0, st_ = 0, snn_ = 0, snt_ = 0;
  unsigned observations_ = 0;
};

}  // namespace spool
