// bfs: level-synchronous breadth-first search on a generated graph (R-MAT,
// or a 2-D grid with random shortcuts), every pass over the frontier one
// batch of independent items whose count follows the frontier, run through
// Spool and checked against a CPU BFS.
//
//   spool_bfs [--graph rmat|grid] [--vertices N] [--edge-factor E] [--shortcuts S]
//             [--item-size C] [--source V] [--seed S]
//             [--mode launches|recorded|persistent|auto | --compare [--reps R]]
//             [--telemetry FILE] [--verbose]
#include <memory>

#include "bfs_workload.hpp"
#include "workload_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Level-synchronous breadth-first search on a generated graph, every frontier pass a batch of Spool "
               "work items, checked against a CPU BFS."};
  bfs::Params p;
  sample::CommonOptions o;
  std::string graph = "rmat";
  app.add_option("--graph", graph, "rmat (scale-free, few levels, huge frontiers) or grid (2-D grid with random "
                                   "shortcuts: many levels, small frontiers)")
      ->check(CLI::IsMember({"rmat", "grid"}))
      ->capture_default_str();
  app.add_option("--vertices", p.vertices, "vertices (R-MAT: rounded up to a power of two; grid: to a square)")
      ->check(CLI::Range(16u, 1u << 24))
      ->capture_default_str();
  app.add_option("--edge-factor", p.edge_factor, "R-MAT: edges generated per vertex")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--shortcuts", p.shortcuts, "grid: random extra edges per vertex")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--item-size", p.item_size, "adjacency chunks (of 8 entries) per work item")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--source", p.source, "start vertex (-1: the vertex of highest degree)")->capture_default_str();
  app.add_option("--seed", p.seed, "seed of the graph")->capture_default_str();
  sample::add_common_options(app, o);
  CLI11_PARSE(app, argc, argv);
  p.kind = graph == "grid" ? bfs::GraphKind::grid : bfs::GraphKind::rmat;
  return sample::drive(o, [&](spool::Device& dev) { return std::make_unique<bfs::Workload>(dev, p); });
}
