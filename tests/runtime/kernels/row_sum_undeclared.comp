// row_sum_undeclared: out[i] = sum of in[i*n .. i*n + n) for i < rows. A test body
// that has a loop and declares nothing.

SPOOL_BUFFER(SpoolFloats, float);
struct SpoolArgs { SpoolFloats in_v; SpoolFloats out_v; uint n; uint rows; };
void spool_body(SpoolArgs a, uint i, uint item) {
  if (i >= a.rows) return;
  float s = 0.0;
  const uint n = a.n;
  for (uint j = 0u; j < n; ++j) s += a.in_v.v[i * a.n + j];
  a.out_v.v[i] = s;
}
