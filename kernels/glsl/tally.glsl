// tally: counts[item_id + i] += 1 (atomically) for i < grid. Used by the
// exactly-once tests: every item of a batch bumps its own counters.
SPOOL_BUFFER(SpoolUints, uint);
struct SpoolArgs { SpoolUints counts; uint item_id; };
void spool_body(SpoolArgs args, uint i, uint item) {
  atomicAdd(args.counts.v[args.item_id + i], 1u);
}
