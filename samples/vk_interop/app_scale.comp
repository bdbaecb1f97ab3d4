#version 460
// The application's own compute shader, written without Spool in mind: a
// descriptor-bound storage buffer and its own push constants. The app
// dispatches it itself; Spool can also run it (launches/recorded modes).
layout(local_size_x = 64) in;
layout(set = 0, binding = 0, std430) buffer Data { float v[]; } data;
layout(push_constant, std430) uniform Push { uint n; float factor; } pc;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < pc.n) data.v[i] *= pc.factor;
}
