/* The persistent work-queue ring: its one layout definition, read by the
 * host engine (C++20, spool/backend/persistent_queue.hpp), by the Vulkan
 * persistent wrapper (GLSL, kernels/include/wrap_persistent.glsl) and by the
 * CUDA persistent loop (spool/cuda/kernel_wrap.cuh). Plain preprocessor
 * constants so that all three languages include the same file.
 *
 * All offsets are in 32-bit words. The ring is one block of memory that both
 * sides see (host-coherent on Vulkan, mapped pinned on CUDA):
 *
 *   [ host line: 32 words ][ device line: 32 words ][ slots ][ slot states ]
 *
 * Words the host writes and words the device writes never share a 128-byte
 * line: the host line, then the device line, then `capacity` slots of 32
 * words (host-written: header + packed arguments), then `capacity` states of
 * 4 words (device-written). Two further device-only words (the claim counter
 * and the retire flag) live in a "device control" block that the backend
 * places where device atomics are cheapest (device memory on CUDA).
 *
 * Protocol (no compare-and-swap between host and device anywhere):
 *  - publish (host): fill slot s = seq % capacity (header, arguments), write
 *    its SEQTAG = SPOOL_RING_TAG(seq) last, then release-store TAIL = seq + 1;
 *  - claim (device): leaders CAS the device-only HEAD counter; the winner of
 *    h owns slot h, stores the slot state's CLAIM = tag(h), runs the body over
 *    [BEGIN, END), stores STATUS, then release-stores DONE = tag(h);
 *  - reap (host): strictly in sequence order, a slot is finished when its
 *    state's DONE equals tag(seq); RECLAIM (host line) publishes how far;
 *  - stop: the host sets PARK (exit when nothing is left to claim) or
 *    SHUTDOWN (exit before the next claim); a device leader checks both
 *    before every claim, so after a clean stop every slot is either done or
 *    never claimed and can be re-run elsewhere exactly once.
 *  - gate: a slot with SPOOL_RING_FLAG_GATE is claimed only when every slot
 *    with a smaller sequence number than GATE_SEQ is done (ordering of
 *    sequential items and of batches).
 *  - loop budget (CPU drivers that end a shader's loops after a fixed number
 *    of iterations in total, such as llvmpipe's 65535): when LOOP_BUDGET is
 *    not 0 the device counts the loop iterations it spends and retires
 *    (exits cleanly, between slots) before a slot could exceed it; the host
 *    relaunches at once. A canary loop after every slot detects a budget
 *    exhausted anyway (a body that loops more than it declared): STATUS
 *    then says so and the host reports the item failed, never done.
 */
#ifndef SPOOL_RING_ABI_H
#define SPOOL_RING_ABI_H

/* Tags of sequence numbers: never 0 (0 = nothing written yet); unique for the
 * occupants of one slot because capacity <= 2^30. */
#define SPOOL_RING_TAG(seq) ((((seq) << 1u) | 1u))

/* ---- host line (words 0..31, written by the host only) ---- */
#define SPOOL_RING_TAIL 0u          /* slots with seq < TAIL are published */
#define SPOOL_RING_PARK 1u          /* exit once nothing is left to claim */
#define SPOOL_RING_SHUTDOWN 2u      /* exit before claiming anything else */
#define SPOOL_RING_CAPACITY 3u      /* slots, a power of two >= 2 */
#define SPOOL_RING_IDLE_LIMIT 4u    /* empty polls before a workgroup exits */
#define SPOOL_RING_LOOP_BUDGET 5u   /* loop iterations a workgroup may spend (0: no limit) */
#define SPOOL_RING_CANARY 6u        /* trip count of the canary loop (2) */
#define SPOOL_RING_RECLAIM 7u       /* every slot with seq < RECLAIM is done */

/* ---- device line (words 32..63, written by the device only) ---- */
#define SPOOL_RING_DEVICE_LINE 32u
#define SPOOL_RING_STARTED 32u      /* workgroups that entered the loop (all launches); the host only
                                     * checks that it changed after a launch. CUDA bumps it with a load
                                     * and a store (no atomics on mapped host memory): not exact there */
#define SPOOL_RING_RUNNING 33u      /* workgroups inside the loop now (CUDA: in its dctl instead) */
#define SPOOL_RING_HEARTBEAT 34u    /* poll iterations, for the host's liveness check */
#define SPOOL_RING_DONE_COUNT 35u   /* slots finished (CUDA: in its dctl instead) */
#define SPOOL_RING_RETIRED 36u      /* workgroups that retired before their loop budget ran out */

#define SPOOL_RING_CONTROL_WORDS 64u

/* ---- slots (32 words each, written by the host only) ---- */
#define SPOOL_RING_SLOT_WORDS 32u
#define SPOOL_RING_SEQTAG 0u        /* SPOOL_RING_TAG(seq) of the occupant */
#define SPOOL_RING_END 1u           /* the body runs for i in [BEGIN, END) */
#define SPOOL_RING_ITEM 2u          /* the item's index in its batch */
#define SPOOL_RING_BEGIN 3u
#define SPOOL_RING_FLAGS 4u
#define SPOOL_RING_GATE_SEQ 5u      /* with FLAG_GATE: wait until all seq < GATE_SEQ are done */
#define SPOOL_RING_ARGS 8u          /* packed argument block */
#define SPOOL_RING_ARG_BYTES 96u
#define SPOOL_RING_FLAG_GATE 1u

/* ---- slot states (4 words each, after the slots, written by the device only) ---- */
#define SPOOL_RING_STATE_WORDS 4u
#define SPOOL_RING_CLAIM 0u         /* tag(seq) once claimed */
#define SPOOL_RING_DONE 1u          /* tag(seq) once finished (STATUS is valid then) */
#define SPOOL_RING_STATUS 2u        /* SPOOL_RING_STATUS_* */
#define SPOOL_RING_STATUS_OK 0u
#define SPOOL_RING_STATUS_BUDGET 1u /* the canary found the loop budget exhausted: the item may be cut short */

/* ---- device control block (2 words, device-only atomics) ---- */
#define SPOOL_RING_DCTL_HEAD 0u     /* next sequence number to claim */
#define SPOOL_RING_DCTL_RETIRE 1u   /* a workgroup is retiring: all retire */
#define SPOOL_RING_DCTL_WORDS 2u
/* Where a backend that keeps the device control block inside the ring puts
 * it (Vulkan): in the device line, which the host never writes while a
 * kernel runs. */
#define SPOOL_RING_DCTL_IN_RING 48u

/* Loop iterations the device keeps in reserve below LOOP_BUDGET. */
#define SPOOL_RING_BUDGET_MARGIN 256u

#endif /* SPOOL_RING_ABI_H */
