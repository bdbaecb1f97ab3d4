// saxpy: y[i] = a * x[i] + y[i] for i < n.
SPOOL_BUFFER(SpoolFloats, float);
struct SpoolArgs { SpoolFloats x; SpoolFloats y; float a; uint n; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i < args.n) args.y.v[i] = args.a * args.x.v[i] + args.y.v[i];
}
