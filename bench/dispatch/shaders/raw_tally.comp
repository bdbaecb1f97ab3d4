// Raw baseline (a)/(b): the work of Spool's `tally` with one item per
// dispatch: counts[item_id + i] += 1 for i < grid, through a buffer device
// address in push constants, workgroup size from specialization constant 0
// (set to Spool's launch workgroup so both dispatch the same shape).
#version 460
#extension GL_EXT_buffer_reference : require

layout(local_size_x_id = 0) in;
layout(buffer_reference, std430, buffer_reference_align = 4) buffer Uints { uint v[]; };
layout(push_constant, std430) uniform Push {
  Uints counts;
  uint item_id;
  uint grid;
} pc;

void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i < pc.grid) atomicAdd(pc.counts.v[pc.item_id + i], 1u);
}
