// Raw baseline (c): the simplest resident polling shader that is correct on
// llvmpipe. One invocation reads item ids from a ring in host-coherent
// memory, runs each (counts[id] += 1, as tally with grid 1) and publishes how
// many it has done.
//
// Control words (ctl), each on its own 128-byte line:
//   TAIL     host: items published so far (ring slot = sequence & mask)
//   STOP     host: non-zero asks the shader to return when idle
//   DONE     shader: items done so far (the next sequence to run)
//   STARTED  shader: launches seen so far
//
// Loop budget: llvmpipe ends all loops of an invocation after 65 535
// iterations in total, and the count is never reset while it runs. Every pass
// of the one loop runs one item or polls the tail 64 times (unrolled, no
// inner loop), and the loop stops after `budget` passes (< 65 535, counting
// the pass that leaves it) — between items, so no item is cut short. The
// host sees the fence signal and relaunches it; DONE tells it where to go on.
#version 460
#extension GL_EXT_buffer_reference : require
#extension GL_KHR_memory_scope_semantics : require

layout(local_size_x = 1) in;
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Words { uint w[]; };
layout(push_constant, std430) uniform Push {
  Words ctl;
  Words slots;
  Words counts;
  uint mask;
  uint budget;
} pc;

const uint TAIL = 0u, STOP = 32u, DONE = 64u, STARTED = 96u;

uint ld(Words b, uint i) {
  return atomicLoad(b.w[i], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire);
}
void st(Words b, uint i, uint v) {
  atomicStore(b.w[i], v, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
}

#define POLL if (t == h) t = ld(ctl, TAIL);
#define POLL8 POLL POLL POLL POLL POLL POLL POLL POLL
#define POLL64 POLL8 POLL8 POLL8 POLL8 POLL8 POLL8 POLL8 POLL8

void main() {
  Words ctl = pc.ctl;
  uint h = ld(ctl, DONE);
  atomicAdd(ctl.w[STARTED], 1u);
  for (uint pass = 0u; pass < pc.budget; ++pass) {
    uint t = ld(ctl, TAIL);
    POLL64
    if (t != h) {
      const uint id = pc.slots.w[h & pc.mask];
      atomicAdd(pc.counts.w[id], 1u);
      h += 1u;
      st(ctl, DONE, h);
    } else if (ld(ctl, STOP) != 0u) {
      break;
    }
  }
}
