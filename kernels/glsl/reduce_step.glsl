// reduce_step: one level of a pairwise sum tree, out[i] = in[2i] + in[2i+1]
// (in[2i+1] taken as 0 past n). Run log2(n) steps to reduce n values.
SPOOL_BUFFER(SpoolFloats, float);
struct SpoolArgs { SpoolFloats in_v; SpoolFloats out_v; uint n; };
void spool_body(SpoolArgs args, uint i, uint item) {
  uint a = 2u * i;
  if (a >= args.n) return;
  float s = args.in_v.v[a];
  if (a + 1u < args.n) s += args.in_v.v[a + 1u];
  args.out_v.v[i] = s;
}
