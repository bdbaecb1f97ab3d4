// Token-by-token greedy decoding through a small MLP block stack, batch 1:
// per token an embedding lookup, per layer RMSNorm -> W1 (with a token-shift
// mix of the previous token's normalised input) -> SiLU -> W2 -> residual,
// then a final RMSNorm, the output head and an argmax that picks the next
// token. Every token is one sequential batch of ~40 small dependent steps of
// one kernel (kernels/decode_step.comp) -- the launch-bound pattern that
// motivates persistent "megakernels" for decoding on GPUs. Weights come from
// a seed. Checked token by token against a CPU forward pass.
#pragma once

#include <spool/spool.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workload_modes.hpp"

namespace decode {

struct Params {
  std::uint32_t dim = 128;     // model width d
  std::uint32_t hidden = 0;    // MLP width (0: 4 d)
  std::uint32_t vocab = 512;
  std::uint32_t layers = 4;
  std::uint32_t tokens = 64;   // tokens to generate
  std::uint64_t seed = 1;
};

// Weights and where everything lives in the two arenas.
struct Model {
  Params params;
  std::uint32_t d = 0, h = 0, v = 0, layers = 0;
  std::vector<float> w;  // weights arena
  // Offsets in w.
  std::uint32_t emb = 0, g_final = 0, w_out = 0;
  struct Layer {
    std::uint32_t g1, w1, b1, w2, b2;
  };
  std::vector<Layer> layer;
  // Offsets in the activations arena (a).
  std::uint32_t a_h = 0, a_ss = 0, a_prev = 0, a_act = 0, a_logits = 0, a_p0 = 0, a_p1 = 0, a_size = 0;
  float mix = 0.5f;
  std::uint32_t first_token = 0;
};

// Throws std::invalid_argument for parameters out of range.
Model make_model(const Params& p);

// The CPU forward pass of one token, state carried in `prev` (layers x d):
// returns the logits for `token`.
std::vector<float> forward_cpu(const Model& m, std::uint32_t token, std::vector<float>& prev);

class Workload {
 public:
  Workload(spool::Device& dev, Params p);

  const Model& model() const noexcept { return model_; }
  std::string describe() const;
  std::uint32_t tokens() const noexcept { return model_.params.tokens; }

  // Generates params.tokens tokens, every batch held to `mode` (or left to
  // the policy), and checks every token's logits and choice against the CPU.
  sample::ModeRun run(sample::Mode mode, bool print_verdicts = false);
  const std::vector<std::uint32_t>& last_tokens() const noexcept { return generated_; }

  // Compiles both pipelines (one token in launches and in persistent mode).
  void warm_up();

 private:
  void reset_state();
  spool::Batch token_batch() const;

  spool::Device& dev_;
  Model model_;
  spool::Kernel kernel_;
  spool::Buffer w_, a_, tok_;
  std::optional<spool::Batch> batch_;  // one token; the same every step (tok is read on the device)
  std::vector<std::uint32_t> inputs_, generated_;
  std::vector<float> logits_;  // tokens x vocab, as the device computed them
};

}  // namespace decode
