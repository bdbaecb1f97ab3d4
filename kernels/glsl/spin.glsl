// spin: marks started (marks[3*item_id] += 1), then polls gate[0] until it is
// 0 or `limit` polls were made (each poll counted in marks[3*item_id+2]), then
// marks finished (marks[3*item_id+1] += 1). Used to inject a stalled item for
// the watchdog tests.
// Every poll is an atomic read-modify-write with a visible side effect (the
// poll counter), so the compiler can neither hoist the gate read nor drop the
// loop. CPU drivers bound a shader's loop iterations (llvmpipe: 65535 in
// total), so each iteration makes 256 polls (unrolled; more makes the JIT
// compile take tens of seconds), and the body declares its loop cost for
// the persistent queue: up to 60000 iterations (15.4 million polls) per
// item, plus one for leaving the loop.
#define SPOOL_SPIN_ITERATIONS 60000u
#define SPOOL_BODY_LOOP_BOUND 60001u
SPOOL_BUFFER(SpoolUints, uint);
struct SpoolArgs { SpoolUints gate; SpoolUints marks; uint item_id; uint limit; };

#define SPOOL_POLL                                                     \
  if (!open && (atomicAdd(args.marks.v[base + 2u], 1u) >= args.limit || \
                atomicOr(args.gate.v[0], 0u) == 0u))                     \
    open = true;
#define SPOOL_POLL16 SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL \
  SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL SPOOL_POLL \
  SPOOL_POLL SPOOL_POLL
#define SPOOL_POLL256 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 \
  SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16        \
  SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16 SPOOL_POLL16

void spool_body(SpoolArgs args, uint i, uint item) {
  if (i != 0u) return;
  const uint base = 3u * args.item_id;
  atomicAdd(args.marks.v[base], 1u);
  bool open = false;
  for (uint n = 0u; !open && n < SPOOL_SPIN_ITERATIONS; ++n) {
    SPOOL_POLL256
  }
  atomicAdd(args.marks.v[base + 1u], 1u);
}
