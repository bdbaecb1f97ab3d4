// stencil_step: one Jacobi step of 1-D heat diffusion with fixed ends,
// dst[i] = src[i] + alpha * (src[i-1] - 2 src[i] + src[i+1]) for 0 < i < n-1.
SPOOL_BUFFER(SpoolFloats, float);
struct SpoolArgs { SpoolFloats src; SpoolFloats dst; float alpha; uint n; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i >= args.n) return;
  if (i == 0u || i + 1u >= args.n) { args.dst.v[i] = args.src.v[i]; return; }
  float c = args.src.v[i];
  args.dst.v[i] = c + args.alpha * (args.src.v[i - 1u] - 2.0 * c + args.src.v[i + 1u]);
}
