// decode_step: every step of one token through a small MLP block stack
// (RMSNorm -> W1 -> SiLU -> W2 -> residual, with a token-shift mix of the
// previous token's normalised input) and the output head with a greedy
// argmax. One body with an `op` argument, so that a whole token is one
// sequential batch of one kernel.
//
// Weights live in one arena buffer (w), activations in another (a); every
// step names its operands by offsets. Without shared memory a matrix-vector
// product is two steps: OP_MATVEC writes one partial dot product per row and
// tile of 16 columns, OP_SEGSUM adds them 16 at a time per row (repeated
// until one value per row is left, then applies bias / SiLU / residual). The
// order of every addition is fixed; the CPU reference adds in the same order.
//
// Loops have a constant trip count. llvmpipe counts every loop iteration of
// an invocation against a budget of 65535 for as long as a persistent shader
// stays resident, so a body with loops declares how many iterations one call
// takes at most (one tile of 16); the persistent variant accounts for it and
// retires before the budget runs out.
#extension GL_EXT_control_flow_attributes : require
#define SPOOL_BODY_LOOP_BOUND 16u

SPOOL_BUFFER(Floats, float);
SPOOL_BUFFER(Uints, uint);

struct SpoolArgs {
  Floats w;       // weights arena
  Floats a;       // activations arena
  Uints tok;      // tok[0]: the current token; OP_ARGMAX's last level writes the next one
  uint op;
  uint rows;
  uint cols;
  uint flags;
  uint w_off;     // matrix (OP_MATVEC), embedding table (OP_EMBED)
  uint x_off;     // input in a
  uint out_off;   // output in a
  uint g_off;     // RMSNorm gain (OP_MATVEC, OP_SHIFT) or bias (OP_SEGSUM) in w
  uint aux_off;   // sum of squares for RMSNorm, or the residual (OP_SEGSUM), in a
  uint prev_off;  // previous token's normalised input, in a
  float mix;      // token shift: mix * x_t + (1 - mix) * x_{t-1}
};

const uint OP_EMBED = 0u;   // a[out + i] = w[w_off + tok * cols + i]
const uint OP_SUMSQ = 1u;   // a[out + t] = sum of squares of x[16t .. 16t+15]
const uint OP_MATVEC = 2u;  // a[out + r*T + t] = W[r, 16t .. 16t+15] . in[16t .. 16t+15], T = ceil(cols/16)
const uint OP_SEGSUM = 3u;  // per row, add groups of 16 of `cols` values; epilogue on the last level
const uint OP_SHIFT = 4u;   // a[prev + c] = normalised x[c]
const uint OP_ARGMAX = 5u;  // (value, index) of the max of groups of 16; last level writes tok[0]

const uint F_NORM = 1u, F_MIX = 2u, F_BIAS = 4u, F_SILU = 8u, F_RESID = 16u, F_FIRST = 32u;
const uint TILE = 16u;

float inv_rms(SpoolArgs a) { return 1.0 / sqrt(a.a.v[a.aux_off] / float(a.cols) + 1e-5); }

void spool_body(SpoolArgs a, uint i, uint item) {
  if (a.op == OP_EMBED) {
    if (i < a.cols) a.a.v[a.out_off + i] = a.w.v[a.w_off + a.tok.v[0] * a.cols + i];
  } else if (a.op == OP_SUMSQ) {
    float s = 0.0;
    [[unroll]] for (uint j = 0u; j < TILE; ++j) {
      const uint c = TILE * i + j;
      if (c < a.cols) {
        const float v = a.a.v[a.x_off + c];
        s += v * v;
      }
    }
    a.a.v[a.out_off + i] = s;
  } else if (a.op == OP_MATVEC) {
    const uint tiles = (a.cols + TILE - 1u) / TILE;
    const uint r = i / tiles, t = i % tiles;
    if (r >= a.rows) return;
    const float inv = (a.flags & F_NORM) != 0u ? inv_rms(a) : 1.0;
    float s = 0.0;
    [[unroll]] for (uint j = 0u; j < TILE; ++j) {
      const uint c = TILE * t + j;
      if (c < a.cols) {
        float xv = a.a.v[a.x_off + c];
        if ((a.flags & F_NORM) != 0u) xv = xv * inv * a.w.v[a.g_off + c];
        if ((a.flags & F_MIX) != 0u) xv = a.mix * xv + (1.0 - a.mix) * a.a.v[a.prev_off + c];
        s += a.w.v[a.w_off + r * a.cols + c] * xv;
      }
    }
    a.a.v[a.out_off + i] = s;
  } else if (a.op == OP_SEGSUM) {
    const uint groups = (a.cols + TILE - 1u) / TILE;
    const uint r = i / groups, t = i % groups;
    if (r >= a.rows) return;
    float s = 0.0;
    [[unroll]] for (uint j = 0u; j < TILE; ++j) {
      const uint c = TILE * t + j;
      if (c < a.cols) s += a.a.v[a.x_off + r * a.cols + c];
    }
    if (groups == 1u) {
      if ((a.flags & F_BIAS) != 0u) s += a.w.v[a.g_off + r];
      if ((a.flags & F_SILU) != 0u) s = s / (1.0 + exp(-s));
      if ((a.flags & F_RESID) != 0u) s += a.a.v[a.aux_off + r];
    }
    a.a.v[a.out_off + i] = s;
  } else if (a.op == OP_SHIFT) {
    if (i < a.cols) a.a.v[a.prev_off + i] = a.a.v[a.x_off + i] * inv_rms(a) * a.w.v[a.g_off + i];
  } else if (a.op == OP_ARGMAX) {
    const bool first = (a.flags & F_FIRST) != 0u;
    float best = 0.0, best_index = 0.0;
    bool any = false;
    [[unroll]] for (uint j = 0u; j < TILE; ++j) {
      const uint c = TILE * i + j;
      if (c < a.cols) {
        const float v = first ? a.a.v[a.x_off + c] : a.a.v[a.x_off + 2u * c];
        const float index = first ? float(c) : a.a.v[a.x_off + 2u * c + 1u];
        if (!any || v > best) {  // ties keep the lower index
          best = v;
          best_index = index;
          any = true;
        }
      }
    }
    a.a.v[a.out_off + 2u * i] = best;
    a.a.v[a.out_off + 2u * i + 1u] = best_index;
    if (a.cols <= TILE) a.tok.v[0] = uint(best_index);
  }
}
