// bfs_expand: one pass of a level-synchronous breadth-first search. Each
// invocation takes one chunk from the work list and looks at its 8 entries.
//
// Adjacency is stored as a tree of chunks of 8 entries per vertex: a leaf
// chunk holds up to 8 neighbours; a vertex with more neighbours has a root
// chunk whose entries point to child chunks (CHILD bit set), 8 at a time,
// as deep as needed. So an invocation never loops over a whole adjacency list
// (one loop of 8, unrolled): a high-degree vertex fans out into child chunks
// that the host runs as further passes of the same level.
//
//   entry == EMPTY        nothing
//   entry & CHILD         child chunk: appended to the same-level list
//   otherwise             neighbour u: the first to claim level[u] sets its
//                         level and parent and appends u's root chunk to the
//                         next-level list
//
// The lists and their counters are indexed by region (0..2); the host
// rotates the roles of the regions between passes and levels.
//
// The one loop (8 entries) is declared for llvmpipe's loop budget, which a
// persistent shader spends across every item it serves.
#extension GL_EXT_control_flow_attributes : require
#define SPOOL_BODY_LOOP_BOUND 8u

SPOOL_BUFFER(Uints, uint);

struct SpoolArgs {
  Uints slots;     // chunks * 8 entries
  Uints owner;     // chunk -> its vertex
  Uints root;      // vertex -> root chunk (EMPTY: no neighbours)
  Uints level;     // vertex -> BFS level (UNVISITED until reached)
  Uints parent;    // vertex -> the vertex it was reached from
  Uints lists;     // 3 regions of `cap` chunk ids
  Uints counters;  // entries in each region
  uint start;      // this item's first entry in the work region
  uint work;       // region being processed
  uint same;       // region receiving child chunks (same level)
  uint next;       // region receiving root chunks (next level)
  uint cap;        // capacity of a region
  uint lvl;        // the level being expanded
};

const uint EMPTY = 0xFFFFFFFFu;
const uint UNVISITED = 0xFFFFFFFFu;
const uint CHILD = 0x80000000u;

void spool_body(SpoolArgs a, uint i, uint item) {
  const uint c = a.lists.v[a.work * a.cap + a.start + i];
  const uint v = a.owner.v[c];
  [[unroll]] for (uint j = 0u; j < 8u; ++j) {
    const uint e = a.slots.v[8u * c + j];
    if (e == EMPTY) continue;
    if ((e & CHILD) != 0u) {
      const uint at = atomicAdd(a.counters.v[a.same], 1u);
      a.lists.v[a.same * a.cap + at] = e & ~CHILD;
    } else if (atomicCompSwap(a.level.v[e], UNVISITED, a.lvl + 1u) == UNVISITED) {
      a.parent.v[e] = v;
      const uint r = a.root.v[e];
      if (r != EMPTY) {
        const uint at = atomicAdd(a.counters.v[a.next], 1u);
        a.lists.v[a.next * a.cap + at] = r;
      }
    }
  }
}
