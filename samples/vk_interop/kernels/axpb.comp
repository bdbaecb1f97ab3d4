// axpb: y[i] = a * x[i] + b, for i < n. A Spool kernel body (see
// spool_abi.glsl): spool_add_kernels() compiles it into a per-launch and a
// persistent variant. Buffer arguments arrive as device addresses, so an
// item may point into the middle of an application buffer.
#include "spool_abi.glsl"

SPOOL_BUFFER(Floats, float);
struct SpoolArgs { Floats x; Floats y; float a; float b; uint n; };

void spool_body(SpoolArgs args, uint i, uint item) {
  if (i < args.n) args.y.v[i] = args.a * args.x.v[i] + args.b;
}
