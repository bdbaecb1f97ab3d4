// Persistent variant: a resident shader whose workgroups claim slots of the
// work-queue ring (layout and protocol: spool/backend/ring_abi.h) and run the
// body over each slot's range [BEGIN, END). Workgroups never wait for one
// another except through gates (a slot with FLAG_GATE is claimed only once
// every earlier slot is done), so nothing assumes they are co-resident.
//
// Loop budget: some CPU drivers (llvmpipe) end every loop of an invocation
// once it has spent a fixed number of iterations in total, and never reset
// the count while the shader stays resident. When the ring's LOOP_BUDGET is
// not 0, the leader counts what its workgroup spends and retires cleanly,
// between slots, before a slot could run out; the host relaunches at once.
// llvmpipe's accounting (measured): a loop costs one per pass through its
// end, including the pass that leaves it, and, because a SIMD row executes
// a skipped loop with no lane active, every loop statement inside a loop
// iteration costs at least one even when control flow does not enter it.
// So one pass of the queue loop costs 4 + (loop statements of the body),
// and a call of the body costs 1 + its declared bound: per loop statement,
// its iterations + 1 for every time control reaches it:
//   #define SPOOL_BODY_LOOP_BOUND 65u   (one loop of up to 64 iterations)
// before this file is included. A canary loop after every slot catches a
// wrong declaration: the slot is then reported failed, never done.
#extension GL_KHR_memory_scope_semantics : require
#include "spool/backend/ring_abi.h"

layout(local_size_x_id = 0) in;

#ifndef SPOOL_BODY_LOOP_BOUND
#define SPOOL_BODY_LOOP_BOUND 0xffffffffu
#endif
// Loop iterations one call of spool_body costs at most, each loop counted
// once more for leaving it (0xffffffff: not declared). Read back from the
// module by the host (specialization constant 1).
layout(constant_id = 1) const uint spool_body_loop_bound = SPOOL_BODY_LOOP_BOUND;
// Loop statements in the body (OpLoopMerge count), set by the host.
layout(constant_id = 2) const uint spool_body_loops = 0u;

layout(buffer_reference, std430, buffer_reference_align = 8) coherent readonly buffer SpoolArgsRef {
  SpoolArgs args;
};
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer SpoolWords {
  uint w[];
};

layout(push_constant, std430) uniform SpoolPersistentPush {
  SpoolWords ring;        // the ring
  SpoolWords dctl;        // the device control block: HEAD, RETIRE
  uint64_t ring_address;  // the ring's address, for argument blocks
} spool_pp;

uint spool_ld(SpoolWords b, uint i) {
  return atomicLoad(b.w[i], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire);
}
void spool_st(SpoolWords b, uint i, uint v) {
  atomicStore(b.w[i], v, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
}

// Poll the tail 64 times per loop iteration (unrolled): one loop iteration
// per poll would spend a CPU driver's loop budget in a few milliseconds.
#define SPOOL_POLL_TAIL \
  if (t == h) t = spool_ld(ring, SPOOL_RING_TAIL);
#define SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL \
  SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL
#define SPOOL_POLL_TAIL64 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 \
  SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8

const uint SPOOL_RUN = 0u, SPOOL_RETRY = 1u, SPOOL_EXIT = 2u;
const uint SPOOL_GATE_SCAN = 16u;  // slots a gate check inspects per poll
// A leader claims up to this many consecutive slots at once (never past a
// gate, never more than SPOOL_CLAIM_CALLS calls of the body per invocation,
// so large items still spread over workgroups): one claim, two barriers and
// one completion for the lot.
const uint SPOOL_CLAIM_MAX = 16u;
const uint SPOOL_CLAIM_CALLS = 64u;

shared uint s_state, s_seq, s_count, s_fault;
shared uint s_begin[SPOOL_CLAIM_MAX], s_end[SPOOL_CLAIM_MAX], s_item[SPOOL_CLAIM_MAX];

void main() {
  SpoolWords ring = spool_pp.ring;
  SpoolWords dctl = spool_pp.dctl;
  const uint cap = ring.w[SPOOL_RING_CAPACITY];
  const uint mask = cap - 1u;
  const uint budget = ring.w[SPOOL_RING_LOOP_BUDGET];
  const uint idle_limit = ring.w[SPOOL_RING_IDLE_LIMIT];
  const uint canary = ring.w[SPOOL_RING_CANARY];
  const uint states = SPOOL_RING_CONTROL_WORDS + cap * SPOOL_RING_SLOT_WORDS;
  const uint declared = spool_body_loop_bound == 0xffffffffu ? 0u : spool_body_loop_bound;
  const uint per_call = 1u + max(declared, spool_body_loops);
  // One pass of the queue loop: itself, the gate scan, the claim's three
  // loops over its slots (extend, tag, complete), the loop over the claimed
  // slots, the stride loop, the body's loop statements and the canary, each
  // at least once.
  const uint per_pass = 8u + spool_body_loops;
  const uint lid = gl_LocalInvocationIndex;
  const uint wg = gl_WorkGroupSize.x;
  uint spent = 0u;  // leader: loop iterations spent by this workgroup
  uint idle = 0u;
  uint vdone = 0u;  // leader: every slot with seq < vdone is known done
  if (lid == 0u) {
    atomicAdd(ring.w[SPOOL_RING_STARTED], 1u);
    atomicAdd(ring.w[SPOOL_RING_RUNNING], 1u);
  }
  for (;;) {
    if (lid == 0u) {
      spent += per_pass;
      s_state = SPOOL_RETRY;
      atomicAdd(ring.w[SPOOL_RING_HEARTBEAT], 1u);
      if (spool_ld(ring, SPOOL_RING_SHUTDOWN) != 0u || spool_ld(dctl, SPOOL_RING_DCTL_RETIRE) != 0u) {
        s_state = SPOOL_EXIT;
      } else {
        uint h = spool_ld(dctl, SPOOL_RING_DCTL_HEAD);
        uint t = h;
        SPOOL_POLL_TAIL64
        if (t != h) {
          idle = 0u;
          const uint base = SPOOL_RING_CONTROL_WORDS + (h & mask) * SPOOL_RING_SLOT_WORDS;
          const uint begin = ring.w[base + SPOOL_RING_BEGIN];
          const uint end = ring.w[base + SPOOL_RING_END];
          // Beyond one pass: the first slot's calls and its share of the
          // claim's loops, the canary's iterations, a gate scan.
          uint cost = ((end - begin + wg - 1u) / wg) * per_call + 5u + canary + SPOOL_GATE_SCAN + per_pass + 4u;
          bool open = true;
          if ((ring.w[base + SPOOL_RING_FLAGS] & SPOOL_RING_FLAG_GATE) != 0u) {
            // Every slot before GATE_SEQ must be done: RECLAIM (host) says
            // how far that is known, done tags tell the rest.
            // vdone never passes the gate: every seq below the gate is
            // published, so a slot that shows another occupant's SEQTAG was
            // reclaimed (done). Beyond the gate it may not be published yet,
            // and taking its older occupant's tag for "done" would open a
            // later gate early (a stale h whose slot still holds seq h, with
            // RECLAIM already past it, put vdone beyond the gate).
            const uint gate = ring.w[base + SPOOL_RING_GATE_SEQ];
            const uint reclaim = spool_ld(ring, SPOOL_RING_RECLAIM);
            if (int(reclaim - vdone) > 0) vdone = reclaim;
            for (uint n = 0u; int(gate - vdone) > 0 && n < SPOOL_GATE_SCAN; ++n) {
              const uint st = states + (vdone & mask) * SPOOL_RING_STATE_WORDS;
              const uint sl = SPOOL_RING_CONTROL_WORDS + (vdone & mask) * SPOOL_RING_SLOT_WORDS;
              const uint tagv = SPOOL_RING_TAG(vdone);
              if (spool_ld(ring, st + SPOOL_RING_DONE) != tagv && spool_ld(ring, sl + SPOOL_RING_SEQTAG) == tagv) break;
              vdone += 1u;
              spent += 1u;
            }
            open = int(gate - vdone) <= 0;
          }
          if (budget != 0u && spent + cost + SPOOL_RING_BUDGET_MARGIN > budget) {
            // Retire before this slot could run out of loop iterations; the
            // others follow, and the host relaunches over the same ring.
            s_state = SPOOL_EXIT;
            spool_st(dctl, SPOOL_RING_DCTL_RETIRE, 1u);
            atomicAdd(ring.w[SPOOL_RING_RETIRED], 1u);
          } else if (open) {
            // Take the published slots that follow too, up to a gate, the
            // claim limit or what the budget allows.
            s_begin[0] = begin;
            s_end[0] = end;
            s_item[0] = ring.w[base + SPOOL_RING_ITEM];
            uint k = 1u;
            uint calls = (end - begin + wg - 1u) / wg;
            for (; k < SPOOL_CLAIM_MAX && h + k != t; ++k) {
              const uint b = SPOOL_RING_CONTROL_WORDS + ((h + k) & mask) * SPOOL_RING_SLOT_WORDS;
              if ((ring.w[b + SPOOL_RING_FLAGS] & SPOOL_RING_FLAG_GATE) != 0u) break;
              const uint kb = ring.w[b + SPOOL_RING_BEGIN], ke = ring.w[b + SPOOL_RING_END];
              const uint kc = (ke - kb + wg - 1u) / wg;
              const uint more = kc * per_call + 5u;
              if (calls + kc > SPOOL_CLAIM_CALLS) break;
              if (budget != 0u && spent + cost + more + SPOOL_RING_BUDGET_MARGIN > budget) break;
              calls += kc;
              cost += more;
              s_begin[k] = kb;
              s_end[k] = ke;
              s_item[k] = ring.w[b + SPOOL_RING_ITEM];
            }
            if (atomicCompSwap(dctl.w[SPOOL_RING_DCTL_HEAD], h, h + k) == h) {
              for (uint q = 0u; q < k; ++q) {
                spool_st(ring, states + ((h + q) & mask) * SPOOL_RING_STATE_WORDS + SPOOL_RING_CLAIM,
                         SPOOL_RING_TAG(h + q));
              }
              s_seq = h;
              s_count = k;
              s_fault = 0u;
              s_state = SPOOL_RUN;
              spent += cost;
            }
          }
        } else {
          idle += 1u;
          if (spool_ld(ring, SPOOL_RING_PARK) != 0u || idle >= idle_limit ||
              (budget != 0u && spent + 2u * per_pass + SPOOL_GATE_SCAN + SPOOL_RING_BUDGET_MARGIN > budget)) {
            s_state = SPOOL_EXIT;
          }
        }
      }
    }
    barrier();
    const uint state = s_state;
    const uint first = s_seq;
    const uint count = s_count;
    barrier();
    if (state == SPOOL_EXIT) break;
    if (state == SPOOL_RETRY) continue;

    for (uint q = 0u; q < count; ++q) {
      const uint base = SPOOL_RING_CONTROL_WORDS + ((first + q) & mask) * SPOOL_RING_SLOT_WORDS;
      SpoolArgs args = SpoolArgsRef(spool_pp.ring_address + uint64_t(base + SPOOL_RING_ARGS) * 4ul).args;
      const uint end = s_end[q], item = s_item[q];
      for (uint i = s_begin[q] + lid; i < end; i += wg) {
        spool_body(args, i, item);
      }
    }
    // Canary: a loop whose iterations the compiler cannot fold (each reads
    // the ring). It runs `canary` times unless the loop budget is gone.
    if (budget != 0u) {
      uint c = 0u;
      for (uint j = 0u; j < canary; ++j) {
        c += spool_ld(ring, SPOOL_RING_CANARY);
      }
      if (c != canary * canary) atomicOr(s_fault, 1u);
    }
    memoryBarrierBuffer();
    barrier();
    if (lid == 0u) {
      const uint status = s_fault != 0u ? SPOOL_RING_STATUS_BUDGET : SPOOL_RING_STATUS_OK;
      for (uint q = 0u; q < count; ++q) {
        const uint st = states + ((first + q) & mask) * SPOOL_RING_STATE_WORDS;
        ring.w[st + SPOOL_RING_STATUS] = status;
        spool_st(ring, st + SPOOL_RING_DONE, SPOOL_RING_TAG(first + q));
      }
      atomicAdd(ring.w[SPOOL_RING_DONE_COUNT], count);
      if (vdone == first) vdone = first + count;
    }
  }
  if (lid == 0u) atomicAdd(ring.w[SPOOL_RING_RUNNING], 0xffffffffu);
}
