// decode: token-by-token greedy decoding through a small MLP block stack
// (batch 1, weights from a seed), every token one chain of ~40 small
// dependent kernels run through Spool, checked against a CPU forward pass.
//
//   spool_decode [--dim D] [--hidden H] [--vocab V] [--layers L] [--tokens T]
//                [--mode launches|recorded|persistent|auto | --compare [--reps R]]
//                [--telemetry FILE] [--verbose]
#include <memory>

#include "decode_workload.hpp"
#include "workload_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Token-by-token greedy decoding through a small MLP block stack (batch 1), every step a Spool "
               "kernel, checked against a CPU forward pass."};
  decode::Params p;
  sample::CommonOptions o;
  app.add_option("--dim", p.dim, "model width")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--hidden", p.hidden, "MLP width (0: 4 x dim)")->check(CLI::Range(0, 16384))->capture_default_str();
  app.add_option("--vocab", p.vocab, "vocabulary size")->check(CLI::Range(2, 65536))->capture_default_str();
  app.add_option("--layers", p.layers, "MLP blocks")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--tokens", p.tokens, "tokens to generate")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--seed", p.seed, "seed of the weights and of the first token")->capture_default_str();
  sample::add_common_options(app, o);
  CLI11_PARSE(app, argc, argv);
  return sample::drive(
      o, [&](spool::Device& dev) { return std::make_unique<decode::Workload>(dev, p); }, "tokens", p.tokens);
}
