// Persistent variant: a resident shader whose workgroups claim work items from
// a ring in host-coherent memory (see runtime/backends/vulkan/src/vk_ring.hpp,
// which mirrors this layout), run the body over the item's grid and mark it
// done. Workgroups never wait for one another (no co-residency assumption),
// except that a `sequential` item waits for its predecessor, which was claimed
// earlier and so is already running.
#extension GL_KHR_memory_scope_semantics : require
layout(local_size_x_id = 0) in;

const uint SLOT_EMPTY = 0u, SLOT_PUBLISHED = 1u, SLOT_CLAIMED = 2u, SLOT_DONE = 3u,
           SLOT_REVOKED = 4u;
const uint SLOT_WORDS = 32u;        // 128-byte slots
const uint SLOT_ARGS_OFFSET = 32u;  // bytes: header is 8 words, args follow
const uint FLAG_SEQUENTIAL = 1u;

layout(buffer_reference, std430, buffer_reference_align = 8) coherent readonly buffer SpoolArgsRef {
  SpoolArgs args;
};
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer SpoolRing {
  // control block: 16 words
  uint head;        // next sequence number to claim (device)
  uint tail;        // sequence numbers < tail are published (host)
  uint done;        // items completed (device)
  uint park;        // host: exit once the queue is empty
  uint shutdown;    // host: exit now
  uint running;     // workgroups inside the loop (device)
  uint heartbeat;   // poll iterations (device), for the host watchdog
  uint kernel_id;   // the kernel this shader runs
  uint capacity;    // slots in the ring (power of two)
  uint idle_limit;  // empty polls before a workgroup parks itself
  uint pad[6];
  uint slots[];     // capacity * SLOT_WORDS words: status, seq, grid, flags, item, 3 spare, args
};

layout(push_constant, std430) uniform SpoolPersistentPush {
  SpoolRing ring;
  uint64_t ring_address;
} spool_pp;

#define SPOOL_POLL_TAIL                                                                        \
  if (t == h) t = atomicLoad(ring.tail, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire);
#define SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL \
  SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL SPOOL_POLL_TAIL
#define SPOOL_POLL_TAIL64 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 \
  SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8 SPOOL_POLL_TAIL8

shared uint s_seq;
shared uint s_state;  // 0 = run item, 1 = retry, 2 = exit

uint ld(uint idx) {
  return atomicLoad(spool_pp.ring.slots[idx], gl_ScopeDevice, gl_StorageSemanticsBuffer,
                    gl_SemanticsAcquire);
}

void main() {
  SpoolRing ring = spool_pp.ring;
  const uint mask = ring.capacity - 1u;
  uint idle = 0u;
  if (gl_LocalInvocationIndex == 0u) atomicAdd(ring.running, 1u);
  for (;;) {
    if (gl_LocalInvocationIndex == 0u) {
      s_state = 1u;
      atomicAdd(ring.heartbeat, 1u);
      if (atomicLoad(ring.shutdown, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire) != 0u) {
        s_state = 2u;
      } else {
        uint h = atomicLoad(ring.head, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire);
        uint t = h;
        // Poll the tail up to 64 times per loop iteration (unrolled): llvmpipe
        // ends a loop nest after 65535 iterations, so an iteration per poll
        // would make the shader exit after a few milliseconds of idling.
        SPOOL_POLL_TAIL64

        if (int(t - h) > 0) {
          if (atomicCompSwap(ring.head, h, h + 1u) == h) {
            uint base = (h & mask) * SLOT_WORDS;
            // The host revokes an unclaimed slot (watchdog) with a CAS on the
            // same word, so exactly one side wins.
            if (atomicCompSwap(ring.slots[base], SLOT_PUBLISHED, SLOT_CLAIMED) == SLOT_PUBLISHED) {
              s_seq = h;
              s_state = 0u;
            }
          }
          idle = 0u;
        } else {
          idle++;
          if ((atomicLoad(ring.park, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire) != 0u) ||
              idle >= ring.idle_limit) {
            s_state = 2u;
          }
        }
      }
    }
    barrier();
    uint state = s_state;
    uint seq = s_seq;
    barrier();
    if (state == 2u) break;
    if (state == 1u) continue;

    uint base = (seq & mask) * SLOT_WORDS;
    uint grid = ld(base + 2u);
    uint flags = ld(base + 3u);
    uint item = ld(base + 4u);
    if ((flags & FLAG_SEQUENTIAL) != 0u && gl_LocalInvocationIndex == 0u) {
      // Wait until the predecessor is done (or its slot was already recycled).
      uint pbase = ((seq - 1u) & mask) * SLOT_WORDS;
      for (;;) {
        uint pst = ld(pbase);
        uint pseq = ld(pbase + 1u);
        if (pseq != seq - 1u || pst == SLOT_DONE || pst == SLOT_EMPTY || pst == SLOT_REVOKED) break;
      }
    }
    barrier();
    SpoolArgs args = SpoolArgsRef(spool_pp.ring_address + 64ul + uint64_t(base) * 4ul +
                                  uint64_t(SLOT_ARGS_OFFSET)).args;
    for (uint i = gl_LocalInvocationIndex; i < grid; i += gl_WorkGroupSize.x) {
      spool_body(args, i, item);
    }
    memoryBarrierBuffer();
    barrier();
    if (gl_LocalInvocationIndex == 0u) {
      atomicStore(ring.slots[base], SLOT_DONE, gl_ScopeDevice, gl_StorageSemanticsBuffer,
                  gl_SemanticsRelease);
      atomicAdd(ring.done, 1u);
    }
  }
  if (gl_LocalInvocationIndex == 0u) atomicAdd(ring.running, uint(-1));
}
