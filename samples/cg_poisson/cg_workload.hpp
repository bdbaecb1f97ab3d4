// Conjugate gradient for the 2-D Poisson equation -Δu = f on the unit square
// (zero boundary), discretised with the 5-point stencil on an N x N grid of
// unknowns and stored as a sparse matrix in ELLPACK form (5 entries per row).
// Every CG iteration is a chain of small dependent steps -- sparse
// matrix-vector product, two dot products as reduction trees, the x/r and p
// updates -- submitted to Spool as sequential batches of one kernel
// (kernels/cg_step.comp), several iterations per batch, until the residual
// falls below the tolerance. Checked against a CPU solver that performs the
// same arithmetic in the same order.
#pragma once

#include <spool/spool.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "workload_modes.hpp"

namespace cg {

struct Params {
  std::uint32_t grid = 128;        // N: N x N unknowns
  float tol = 1e-5f;               // stop when |r| <= tol |b|
  std::uint32_t max_iters = 0;     // 0: 20 N + 100
  std::uint32_t check_every = 8;   // iterations per batch (the host checks |r| between batches)
  std::uint64_t seed = 1;          // source term
};

struct Problem {
  Params params;
  std::uint32_t n = 0;             // unknowns
  std::uint32_t max_iters = 0;
  std::vector<std::uint32_t> col;  // n * 5
  std::vector<float> val;          // n * 5
  std::vector<float> b;
};

// Builds the matrix and right-hand side; throws std::invalid_argument for
// parameters out of range.
Problem make_problem(const Params& p);

struct Solution {
  std::vector<float> x;
  std::vector<float> rr;  // r.r per iteration, rr[0] = b.b
  std::uint32_t iterations = 0;
  bool converged = false;
};

// The same algorithm on the CPU, in float, with the same summation trees.
Solution solve_cpu(const Problem& pr);

// How a device solution compares with the CPU one; `ok` only when every
// element agrees within the stated tolerance (see cg_workload.cpp).
struct Check {
  bool ok = false;
  std::string line;
};
Check check(const Problem& pr, const Solution& dev, const Solution& cpu);

class Workload {
 public:
  Workload(spool::Device& dev, Params p);

  const Problem& problem() const noexcept { return problem_; }
  const Solution& reference() const noexcept { return cpu_; }
  std::string describe() const;

  // Solves once, every batch held to `mode` (or left to the policy), and
  // checks the result against the CPU reference.
  sample::ModeRun run(sample::Mode mode, bool print_verdicts = false);
  const Solution& last() const noexcept { return last_; }

  // Compiles the pipelines of both variants (lavapipe compiles at the first
  // dispatch) so that a comparison does not time compilation.
  void warm_up();

 private:
  spool::Verdict submit(spool::Batch b, sample::Mode mode, sample::Tally& t, bool print);
  // Appends the reduction tree of `len` partial sums at part[0..len) ending in scal[dst].
  void add_sum(spool::Batch& b, std::uint32_t len, std::uint32_t k, std::uint32_t dst, float thr) const;
  void add_iteration(spool::Batch& b, std::uint32_t k, float thr) const;
  std::vector<spool::ArgValue> args(std::uint32_t op, std::uint32_t k, std::uint32_t len, std::uint32_t in_off,
                                    std::uint32_t out_off, std::uint32_t dst, float thr) const;

  spool::Device& dev_;
  Problem problem_;
  Solution cpu_;
  Solution last_;
  spool::Kernel kernel_;
  spool::Buffer col_, val_, x_, r_, p_, q_, part_, scal_;
  std::uint32_t m_ = 0;  // partial sums of the first level: ceil(n / 8)
};

}  // namespace cg
