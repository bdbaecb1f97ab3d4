// Level-synchronous breadth-first search on a generated graph (R-MAT, or a
// 2-D grid with random shortcuts). Every pass over the current work list is
// one batch of independent items (one item per `item_size` chunks of
// adjacency), so batch sizes follow the frontier: a few items at the first
// and last levels, thousands in the middle of an R-MAT search, a steady
// trickle on a grid. Checked against a CPU BFS: every vertex's level, and
// every parent is a neighbour one level up.
#pragma once

#include <spool/spool.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "workload_modes.hpp"

namespace bfs {

enum class GraphKind : std::uint8_t { rmat, grid };

struct Params {
  GraphKind kind = GraphKind::rmat;
  std::uint32_t vertices = 1u << 16;  // R-MAT: rounded up to a power of two; grid: to a square
  std::uint32_t edge_factor = 8;      // R-MAT: edges generated per vertex (before symmetrising)
  double shortcuts = 0.01;            // grid: random extra edges per vertex
  std::uint32_t item_size = 256;      // chunks per work item
  std::int64_t source = -1;           // -1: the vertex of highest degree
  std::uint64_t seed = 1;
};

inline constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
inline constexpr std::uint32_t kUnvisited = 0xFFFFFFFFu;
inline constexpr std::uint32_t kChild = 0x80000000u;
inline constexpr std::uint32_t kChunk = 8;

// Undirected simple graph in CSR form, plus its chunk tree (see
// kernels/bfs_expand.comp).
struct Graph {
  std::uint32_t n = 0;
  std::vector<std::uint32_t> offsets;  // n + 1
  std::vector<std::uint32_t> adj;      // sorted per vertex, symmetric, no self loops or duplicates
  std::vector<std::uint32_t> slots;    // chunks * kChunk
  std::vector<std::uint32_t> owner;    // chunk -> vertex
  std::vector<std::uint32_t> root;     // vertex -> root chunk, kEmpty when isolated
  std::uint32_t chunks = 0;
  std::uint32_t source = 0;
  std::uint32_t max_degree = 0;
};

// Throws std::invalid_argument for parameters out of range.
Graph make_graph(const Params& p);

// Plain queue BFS: level per vertex (kUnvisited when unreachable).
std::vector<std::uint32_t> bfs_cpu(const Graph& g);

// One level of the device search, as the host saw it.
struct LevelStats {
  std::uint32_t reached = 0;   // vertices reached at the next level
  std::uint32_t chunks = 0;    // work entries processed at this level (all passes)
  std::uint32_t passes = 0;    // batches
  std::uint32_t max_items = 0; // largest batch
};

class Workload {
 public:
  Workload(spool::Device& dev, Params p);

  const Graph& graph() const noexcept { return g_; }
  std::string describe() const;

  // Runs the search once, every batch held to `mode` (or left to the
  // policy), and checks it against the CPU BFS.
  sample::ModeRun run(sample::Mode mode, bool print_verdicts = false);
  const std::vector<LevelStats>& last_levels() const noexcept { return levels_; }
  void print_details() const;

  // Compiles both pipelines (the first level in launches and persistent mode).
  void warm_up();

 private:
  void reset();
  std::uint32_t search(sample::Mode mode, sample::Tally& t, bool print, std::uint32_t max_levels);

  spool::Device& dev_;
  Params params_;
  Graph g_;
  std::vector<std::uint32_t> cpu_level_;
  spool::Kernel kernel_;
  spool::Buffer slots_, owner_, root_, level_, parent_, lists_, counters_;
  std::vector<LevelStats> levels_;
};

}  // namespace bfs
