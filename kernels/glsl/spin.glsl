// spin: marks started[item_id] = 1, then spins while gate[0] != 0 (bounded by
// `limit` polls), then marks done[item_id] = 1. Used to inject a stalled item
// for the watchdog tests.
SPOOL_BUFFER(SpoolCoherentUints, uint);
struct SpoolArgs { SpoolCoherentUints gate; SpoolCoherentUints marks; uint item_id; uint limit; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i != 0u) return;
  atomicAdd(args.marks.v[2u * args.item_id], 1u);
  for (uint k = 0u; k < args.limit; ++k) {
    if (atomicAdd(args.gate.v[0], 0u) == 0u) break;
  }
  atomicAdd(args.marks.v[2u * args.item_id + 1u], 1u);
}
