// The recorded mode's decision: replay / update in place / rebuild.
#include <gtest/gtest.h>

#include <vector>

#include "cu_graph_plan.hpp"

namespace {

using spool::cuda::GraphAction;
using spool::cuda::GraphPlanner;
using spool::cuda::GraphShape;

struct Batch {
  std::vector<std::uint32_t> args;
  std::vector<spool::backend::PackedItem> items;
  Batch(std::vector<std::uint32_t> grids, std::uint32_t arg) {
    args.assign(grids.size(), arg);
    for (std::uint32_t i = 0; i < grids.size(); ++i) {
      items.push_back({grids[i], i, reinterpret_cast<const std::byte*>(&args[i])});
    }
  }
  GraphShape shape(const void* k, bool seq = false) const {
    GraphShape s{k, seq, 64, {}, {}};
    for (const auto& it : items) {
      s.grids.push_back(it.grid);
      s.begins.push_back(it.begin);
    }
    return s;
  }
};

const int kA = 0, kB = 0;

TEST(CudaGraphPlan, SameShapeSameArgsReplaysOtherArgsUpdatesOtherShapeRebuilds) {
  GraphPlanner p(8);
  Batch b1({64, 128}, 1);
  auto plan = p.plan(b1.shape(&kA), b1.items, 4);
  EXPECT_EQ(plan.action, GraphAction::rebuild);
  p.commit(plan.entry, b1.shape(&kA), b1.items, 4);
  EXPECT_EQ(p.plan(b1.shape(&kA), b1.items, 4).action, GraphAction::replay);

  Batch b2({64, 128}, 2);  // only arguments differ
  auto up = p.plan(b2.shape(&kA), b2.items, 4);
  EXPECT_EQ(up.action, GraphAction::update);
  EXPECT_EQ(up.entry, plan.entry);
  p.commit(up.entry, b2.shape(&kA), b2.items, 4);
  EXPECT_EQ(p.plan(b2.shape(&kA), b2.items, 4).action, GraphAction::replay);

  Batch b3({64, 256}, 2);  // a grid differs
  EXPECT_EQ(p.plan(b3.shape(&kA), b3.items, 4).action, GraphAction::rebuild);
  Batch b4({64, 128, 1}, 2);  // item count differs
  EXPECT_EQ(p.plan(b4.shape(&kA), b4.items, 4).action, GraphAction::rebuild);
  EXPECT_EQ(p.plan(b2.shape(&kB), b2.items, 4).action, GraphAction::rebuild);        // kernel
  EXPECT_EQ(p.plan(b2.shape(&kA, true), b2.items, 4).action, GraphAction::rebuild);  // ordering
  EXPECT_NE(p.plan(b3.shape(&kA), b3.items, 4).entry, plan.entry);  // a free entry, not the cached one
}

TEST(CudaGraphPlan, EvictsLeastRecentlyUsedWhenFull) {
  GraphPlanner p(2);
  Batch a({1}, 0), b({2}, 0), c({3}, 0);
  auto pa = p.plan(a.shape(&kA), a.items, 4);
  p.commit(pa.entry, a.shape(&kA), a.items, 4);
  auto pb = p.plan(b.shape(&kA), b.items, 4);
  p.commit(pb.entry, b.shape(&kA), b.items, 4);
  EXPECT_NE(pa.entry, pb.entry);
  p.commit(pa.entry, a.shape(&kA), a.items, 4);  // a used again: b is now the oldest
  auto pc = p.plan(c.shape(&kA), c.items, 4);
  EXPECT_EQ(pc.action, GraphAction::rebuild);
  EXPECT_EQ(pc.entry, pb.entry);
  p.drop(pa.entry);
  EXPECT_FALSE(p.occupied(pa.entry));
  EXPECT_EQ(p.plan(a.shape(&kA), a.items, 4).action, GraphAction::rebuild);
}

// A graph's nodes carry each item's grid and first index as kernel
// parameters and launch dimensions: the same grids over other ranges is
// another graph, never a replay of the old one.
TEST(CudaGraphPlan, OtherFirstIndicesAreAnotherShape) {
  GraphPlanner p(8);
  Batch whole({640, 640}, 3);
  auto plan = p.plan(whole.shape(&kA), whole.items, 4);
  p.commit(plan.entry, whole.shape(&kA), whole.items, 4);
  Batch rest({640, 640}, 3);
  rest.items[1].begin = 128;  // the rest of an item split by the persistent queue
  EXPECT_FALSE(rest.shape(&kA) == whole.shape(&kA));
  EXPECT_EQ(p.plan(rest.shape(&kA), rest.items, 4).action, GraphAction::rebuild);
  EXPECT_EQ(p.plan(whole.shape(&kA), whole.items, 4).action, GraphAction::replay);
}

}  // namespace
