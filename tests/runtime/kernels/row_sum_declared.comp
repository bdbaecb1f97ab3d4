// row_sum_declared: out[i] = sum of in[i*n .. i*n + n) for i < rows. A test body
// that declares its loop cost correctly (up to 64 iterations + 1).
#define SPOOL_BODY_LOOP_BOUND 65u
SPOOL_BUFFER(SpoolFloats, float);
struct SpoolArgs { SpoolFloats in_v; SpoolFloats out_v; uint n; uint rows; };
void spool_body(SpoolArgs a, uint i, uint item) {
  if (i >= a.rows) return;
  float s = 0.0;
  const uint n = min(a.n, 64u);
  for (uint j = 0u; j < n; ++j) s += a.in_v.v[i * a.n + j];
  a.out_v.v[i] = s;
}
