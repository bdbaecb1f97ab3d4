// cg_poisson: conjugate gradient for the 2-D Poisson equation on an N x N
// grid, each iteration a chain of small dependent kernels (sparse
// matrix-vector product, two reduction trees, axpy updates), run through
// Spool and checked against a CPU solver.
//
//   spool_cg_poisson [--grid N] [--tol T] [--check-every K]
//                    [--mode launches|recorded|persistent|auto | --compare [--reps R]]
//                    [--telemetry FILE] [--verbose]
#include <memory>

#include "cg_workload.hpp"
#include "workload_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Conjugate gradient for the 2-D Poisson equation (5-point stencil), every step a Spool kernel, "
               "checked against a CPU solver."};
  cg::Params p;
  sample::CommonOptions o;
  app.add_option("--grid", p.grid, "N: the grid has N x N unknowns")->check(CLI::Range(4, 2048))->capture_default_str();
  app.add_option("--tol", p.tol, "stop when |r| <= tol |b|")->check(CLI::Range(1e-7, 0.5))->capture_default_str();
  app.add_option("--max-iters", p.max_iters, "iteration limit (0: 20 N + 100)")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
  app.add_option("--check-every", p.check_every, "iterations per batch; the host tests convergence between batches")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--seed", p.seed, "seed of the source term")->capture_default_str();
  sample::add_common_options(app, o);
  CLI11_PARSE(app, argc, argv);
  return sample::drive(o, [&](spool::Device& dev) { return std::make_unique<cg::Workload>(dev, p); });
}
