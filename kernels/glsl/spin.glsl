// spin: marks started (marks[2*item_id] += 1), then spins while gate[0] != 0
// (at most `limit` polls), then marks finished (marks[2*item_id+1] += 1).
// Used to inject a stalled item for the watchdog tests. The gate is polled
// with a compare-and-swap that never matches: a plain (even volatile) load is
// hoisted out of the loop by llvmpipe, and then the loop vanishes.
SPOOL_BUFFER(SpoolUints, uint);
struct SpoolArgs { SpoolUints gate; SpoolUints marks; uint item_id; uint limit; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i != 0u) return;
  atomicAdd(args.marks.v[2u * args.item_id], 1u);
  for (uint k = 0u; k < args.limit; ++k) {
    if (atomicCompSwap(args.gate.v[0], 0xdeadbeefu, 0xdeadbeefu) == 0u) break;
  }
  atomicAdd(args.marks.v[2u * args.item_id + 1u], 1u);
}
