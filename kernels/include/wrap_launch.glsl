// One-item-per-launch variant: arguments arrive as push constants. The body
// runs for i in [spool_base, spool_grid): spool_base is 0 for whole items and
// the start of a part when the persistent queue re-runs part of a split item.
layout(local_size_x_id = 0) in;
layout(push_constant, std430) uniform SpoolPush {
  uint spool_grid;
  uint spool_item;
  uint spool_base;
  SpoolArgs args;
} spool_pc;

void main() {
  uint i = spool_pc.spool_base + gl_GlobalInvocationID.x;
  if (i < spool_pc.spool_grid) spool_body(spool_pc.args, i, spool_pc.spool_item);
}
