// x[i] = x[i] * a + 1 for i < n: an application body that declares
// workgroup sizes to race (tests/runtime/CMakeLists.txt, WORKGROUP_SIZES).
SPOOL_BUFFER(RaceFloats, float);
struct SpoolArgs { RaceFloats x; float a; uint n; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i < args.n) args.x.v[i] = args.x.v[i] * args.a + 1.0;
}
