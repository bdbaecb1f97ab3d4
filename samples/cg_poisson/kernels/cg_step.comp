// cg_step: every step of a conjugate-gradient iteration for A x = b, where A
// is a sparse matrix in ELLPACK form (5 entries per row, padded with zeros).
// One body with an `op` argument, so that a whole iteration -- and several
// iterations -- are one sequential batch of one kernel (a single resident
// kernel serves them all in persistent mode).
//
// Bodies cannot use shared memory or barriers, so a dot product is a tree
// over items: the first step writes one partial sum per 8 rows, each
// OP_SUM step adds groups of 8, the last one writes the scalar. The order of
// every addition is fixed, hence deterministic; the CPU reference in
// cg_workload.cpp adds in the same order.
//
// Scalars live on the device: scal[2k] = r_k.r_k, scal[2k+1] = p_k.A p_k.
// Once r_k.r_k <= thr (converged), every step of iteration k and later does
// nothing but carry r.r forward, so a batch may overshoot convergence.
//
// Loops have a constant trip count. llvmpipe counts every loop iteration of
// an invocation against a budget of 65535 for as long as a persistent shader
// stays resident, so a body with loops declares how many iterations one call
// takes at most (8 rows x (1 + 5 matrix entries)); the persistent variant
// accounts for it and retires before the budget runs out.
#extension GL_EXT_control_flow_attributes : require
#define SPOOL_BODY_LOOP_BOUND 48u

SPOOL_BUFFER(Floats, float);
SPOOL_BUFFER(Uints, uint);

struct SpoolArgs {
  Uints col;     // n * 5 column indices
  Floats val;    // n * 5 values
  Floats x;      // solution
  Floats r;      // residual
  Floats p;      // search direction
  Floats q;      // A p
  Floats part;   // partial sums (two ping-pong halves)
  Floats scal;   // r.r and p.Ap per iteration
  uint op;
  uint n;        // rows
  uint k;        // iteration
  uint len;      // OP_SUM: partial sums to add
  uint in_off;   // OP_SUM: where they are in `part`
  uint out_off;  // where this step writes its partial sums in `part`
  uint dst;      // OP_SUM, last level: scal slot to write
  float thr;     // convergence threshold on r.r
};

const uint OP_RR = 0u;         // part[i] = sum over rows 8i..8i+7 of r*r (before iteration 0)
const uint OP_SPMV_DOT = 1u;   // q = A p; part[i] = sum of p*q
const uint OP_SUM = 2u;        // part[out + i] = sum of part[in + 8i .. 8i+7]; last level -> scal[dst]
const uint OP_UPDATE_DOT = 3u; // alpha = rr/pq; x += alpha p; r -= alpha q; part[i] = sum of r*r
const uint OP_UPDATE_P = 4u;   // beta = rr_new/rr; p = r + beta p
const uint FAN = 8u;

void spool_body(SpoolArgs a, uint i, uint item) {
  const float rr = a.op == OP_RR ? 1.0 : a.scal.v[2u * a.k];
  const bool frozen = a.op != OP_RR && !(rr > a.thr);
  if (a.op == OP_SUM) {
    if (a.len <= FAN) {  // last level: one invocation writes the scalar
      if (i != 0u) return;
      if (frozen) {
        a.scal.v[a.dst] = (a.dst & 1u) == 0u ? rr : 0.0;
        return;
      }
    } else if (frozen) {
      return;
    }
    float s = 0.0;
    [[unroll]] for (uint j = 0u; j < FAN; ++j) {
      const uint src = FAN * i + j;
      if (src < a.len) s += a.part.v[a.in_off + src];
    }
    if (a.len <= FAN) a.scal.v[a.dst] = s;
    else a.part.v[a.out_off + i] = s;
    return;
  }
  if (frozen) return;
  if (a.op == OP_UPDATE_P) {
    if (i < a.n) a.p.v[i] = a.r.v[i] + (a.scal.v[2u * a.k + 2u] / rr) * a.p.v[i];
    return;
  }
  const float alpha = a.op == OP_UPDATE_DOT ? rr / a.scal.v[2u * a.k + 1u] : 0.0;
  float s = 0.0;
  [[unroll]] for (uint j = 0u; j < FAN; ++j) {
    const uint row = FAN * i + j;
    if (row >= a.n) break;
    if (a.op == OP_RR) {
      const float v = a.r.v[row];
      s += v * v;
    } else if (a.op == OP_SPMV_DOT) {
      float acc = 0.0;
      [[unroll]] for (uint e = 0u; e < 5u; ++e) acc += a.val.v[5u * row + e] * a.p.v[a.col.v[5u * row + e]];
      a.q.v[row] = acc;
      s += a.p.v[row] * acc;
    } else {  // OP_UPDATE_DOT
      a.x.v[row] += alpha * a.p.v[row];
      const float v = a.r.v[row] - alpha * a.q.v[row];
      a.r.v[row] = v;
      s += v * v;
    }
  }
  a.part.v[a.out_off + i] = s;
}
