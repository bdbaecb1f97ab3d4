// The `launches` and `recorded` modes. Callers hold mu_ and have made the
// device current.
#include <chrono>
#include <cstring>

#include "cu_check.hpp"
#include "cu_device.hpp"

namespace spool::cuda {

namespace {

using Clock = std::chrono::steady_clock;

double ns_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

dim3 grid_of(const CuKernelImpl& k, std::uint32_t items) { return dim3((items + k.block() - 1) / k.block()); }

// Kernel parameters: (uint32_t grid, uint32_t item, Args args); the third
// pointer points at the packed argument block, which has Args' layout.
struct Params {
  std::uint32_t grid;
  std::uint32_t item;
  void* ptrs[3];
  explicit Params(const backend::PackedItem& it) : grid(it.grid), item(it.index) {
    ptrs[0] = &grid;
    ptrs[1] = &item;
    ptrs[2] = const_cast<std::byte*>(it.args);
  }
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;
};

}  // namespace

// One cudaLaunchKernel per item on one stream (stream order keeps items
// sequential either way), then one stream synchronisation.
backend::ExecResult CuDeviceImpl::run_launches(const CuKernelImpl& k,
                                               std::span<const backend::PackedItem> items) {
  const auto t0 = Clock::now();
  for (const auto& it : items) {
    Params p(it);
    SPOOL_CUDA(cudaLaunchKernel(k.launch_fn(), grid_of(k, it.grid), dim3(k.block()), p.ptrs, 0, stream_));
  }
  SPOOL_CUDA(cudaStreamSynchronize(stream_));
  backend::ExecResult r;
  r.wall_ns = ns_since(t0);
  r.items_run = static_cast<std::uint32_t>(items.size());
  return r;
}

void CuDeviceImpl::destroy_graph(std::size_t entry) noexcept {
  Graph& g = graphs_[entry];
  if (g.exec != nullptr) cudaGraphExecDestroy(g.exec);
  if (g.graph != nullptr) cudaGraphDestroy(g.graph);
  g = Graph{};
  planner_.drop(entry);
}

// A CUDA graph per batch shape (explicit kernel nodes, chained when the
// batch is sequential), instantiated once; a batch of the same shape with
// other arguments updates the nodes in place; the same batch replays.
backend::ExecResult CuDeviceImpl::run_recorded(const CuKernelImpl& k,
                                               std::span<const backend::PackedItem> items,
                                               bool sequential, bool use_cache) {
  const auto t0 = Clock::now();
  GraphShape shape;
  shape.kernel = &k;
  shape.sequential = sequential;
  shape.block = k.block();
  shape.grids.reserve(items.size());
  for (const auto& it : items) shape.grids.push_back(it.grid);
  const std::uint32_t stride = k.desc().arg_block_size;

  GraphPlanner::Plan plan{graphs_.size(), GraphAction::rebuild};
  Graph scratch;
  if (use_cache) plan = planner_.plan(shape, items, stride);
  Graph& g = use_cache ? graphs_[plan.entry] : scratch;

  auto node_params = [&](const backend::PackedItem& it, Params& p) {
    cudaKernelNodeParams np{};
    np.func = const_cast<void*>(k.launch_fn());
    np.gridDim = grid_of(k, it.grid);
    np.blockDim = dim3(k.block());
    np.sharedMemBytes = 0;
    np.kernelParams = p.ptrs;
    np.extra = nullptr;
    return np;
  };

  try {
    if (plan.action == GraphAction::rebuild) {
      if (use_cache) destroy_graph(plan.entry);
      SPOOL_CUDA(cudaGraphCreate(&g.graph, 0));
      g.nodes.resize(items.size());
      for (std::size_t i = 0; i < items.size(); ++i) {
        Params p(items[i]);
        const cudaKernelNodeParams np = node_params(items[i], p);
        const cudaGraphNode_t* dep = sequential && i > 0 ? &g.nodes[i - 1] : nullptr;
        SPOOL_CUDA(cudaGraphAddKernelNode(&g.nodes[i], g.graph, dep, dep != nullptr ? 1 : 0, &np));
      }
      SPOOL_CUDA(cudaGraphInstantiate(&g.exec, g.graph, 0));
    } else if (plan.action == GraphAction::update) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        Params p(items[i]);
        const cudaKernelNodeParams np = node_params(items[i], p);
        SPOOL_CUDA(cudaGraphExecKernelNodeSetParams(g.exec, g.nodes[i], &np));
      }
    }
    if (use_cache) planner_.commit(plan.entry, shape, items, stride);
    SPOOL_CUDA(cudaEventRecord(ev_start_, stream_));
    SPOOL_CUDA(cudaGraphLaunch(g.exec, stream_));
    SPOOL_CUDA(cudaEventRecord(ev_stop_, stream_));
    SPOOL_CUDA(cudaStreamSynchronize(stream_));
  } catch (...) {
    if (use_cache) {
      destroy_graph(plan.entry);
    } else {
      if (scratch.exec != nullptr) cudaGraphExecDestroy(scratch.exec);
      if (scratch.graph != nullptr) cudaGraphDestroy(scratch.graph);
    }
    throw;
  }
  backend::ExecResult r;
  r.wall_ns = ns_since(t0);
  r.items_run = static_cast<std::uint32_t>(items.size());
  float ms = 0;
  if (cudaEventElapsedTime(&ms, ev_start_, ev_stop_) == cudaSuccess) {
    r.device_ns = static_cast<double>(ms) * 1e6;
  } else {
    (void)cudaGetLastError();  // timing is optional; do not leave the error pending
  }
  if (!use_cache) {
    cudaGraphExecDestroy(scratch.exec);
    cudaGraphDestroy(scratch.graph);
  }
  return r;
}

}  // namespace spool::cuda
