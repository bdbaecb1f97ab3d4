// The same body, built without WORKGROUP_SIZES: it never races.
SPOOL_BUFFER(StillFloats, float);
struct SpoolArgs { StillFloats x; float a; uint n; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i < args.n) args.x.v[i] = args.x.v[i] * args.a + 1.0;
}
