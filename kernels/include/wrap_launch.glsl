// One-item-per-launch variant: arguments arrive as push constants.
layout(local_size_x_id = 0) in;
layout(push_constant, std430) uniform SpoolPush {
  uint spool_grid;
  uint spool_item;
  SpoolArgs args;
} spool_pc;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < spool_pc.spool_grid) spool_body(spool_pc.args, i, spool_pc.spool_item);
}
