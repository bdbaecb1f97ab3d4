// The `launches` and `recorded` modes. Callers hold exec_mu() and have made
// the device current.
#include <algorithm>
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

}  // namespace

void CuDeviceImpl::wait_stream(cudaStream_t s) {
  if (s == own_stream_.get()) {
    SPOOL_CUDA(cudaStreamSynchronize(s));
    return;
  }
  SPOOL_CUDA(cudaEventRecord(ev_sync_.get(), s));
  SPOOL_CUDA(cudaEventSynchronize(ev_sync_.get()));
}

CuDeviceImpl::Timing CuDeviceImpl::begin_timing(cudaStream_t s) {
  Timing t;
  t.t0 = Clock::now();
  if (s == own_stream_.get()) return t;
  const cudaError_t e = cudaStreamQuery(s);
  if (e == cudaErrorNotReady) {
    t.bracketed = true;
  } else if (e != cudaSuccess) {
    throw_cuda(e, "cudaStreamQuery(borrowed stream)", __FILE__, __LINE__);
  }
  return t;
}

// After wait_stream(); a bracketed batch recorded ev_start_ before its first
// launch and ev_stop_ after its last.
double CuDeviceImpl::end_timing(const Timing& t, Clock::time_point enqueued) {
  const double wall = ns_since(t.t0);
  if (!t.bracketed) return wall;
  float ms = 0;
  if (cudaEventElapsedTime(&ms, ev_start_.get(), ev_stop_.get()) != cudaSuccess) {
    (void)cudaGetLastError();
    return wall;
  }
  const double enqueue = std::chrono::duration<double, std::nano>(enqueued - t.t0).count();
  return std::min(wall, enqueue + static_cast<double>(ms) * 1e6);
}

// One launch per item on one stream (stream order keeps items sequential
// either way), then one wait for the stream.
backend::ExecResult CuDeviceImpl::run_launches(const CuKernelImpl& k,
                                               std::span<const backend::PackedItem> items, cudaStream_t s) {
  const Timing timing = begin_timing(s);
  if (timing.bracketed) SPOOL_CUDA(cudaEventRecord(ev_start_.get(), s));
  for (const auto& it : items) k.launch(it, s);
  if (timing.bracketed) SPOOL_CUDA(cudaEventRecord(ev_stop_.get(), s));
  const auto enqueued = Clock::now();
  wait_stream(s);
  backend::ExecResult r;
  r.wall_ns = end_timing(timing, enqueued);
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

// A CUDA graph per batch shape, instantiated once and cached (GraphPlanner):
// the same batch replays, a batch of the same shape with other arguments is
// updated by `build`, anything else is rebuilt by `build`. Shared by the
// built-in kernels (explicit nodes) and app kernels (stream capture).
backend::ExecResult CuDeviceImpl::run_graph(const CuKernelImpl& k, std::span<const backend::PackedItem> items,
                                            bool sequential, bool use_cache, cudaStream_t s,
                                            const GraphBuild& build) {
  const Timing timing = begin_timing(s);
  GraphShape shape;
  shape.kernel = &k;
  shape.sequential = sequential;
  shape.block = k.block();
  shape.grids.reserve(items.size());
  shape.begins.reserve(items.size());
  for (const auto& it : items) {
    shape.grids.push_back(it.grid);
    shape.begins.push_back(it.begin);
  }
  const std::uint32_t stride = k.desc().arg_block_size;

  GraphPlanner::Plan plan{graphs_.size(), GraphAction::rebuild};
  Graph scratch;
  if (use_cache) plan = planner_.plan(shape, items, stride);
  Graph& g = use_cache ? graphs_[plan.entry] : scratch;

  Clock::time_point enqueued;
  try {
    if (plan.action == GraphAction::rebuild && use_cache) destroy_graph(plan.entry);
    if (plan.action != GraphAction::replay) build(plan.action, g);
    if (use_cache) planner_.commit(plan.entry, shape, items, stride);
    SPOOL_CUDA(cudaEventRecord(ev_start_.get(), s));
    SPOOL_CUDA(cudaGraphLaunch(g.exec, s));
    SPOOL_CUDA(cudaEventRecord(ev_stop_.get(), s));
    enqueued = Clock::now();
    wait_stream(s);
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
  r.wall_ns = end_timing(timing, enqueued);
  r.items_run = static_cast<std::uint32_t>(items.size());
  float ms = 0;
  if (cudaEventElapsedTime(&ms, ev_start_.get(), ev_stop_.get()) == cudaSuccess) {
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

// Built-in kernels: explicit kernel nodes, chained when the batch is
// sequential; an update sets the nodes' parameters in place.
backend::ExecResult CuDeviceImpl::run_recorded(const CuKernelImpl& k,
                                               std::span<const backend::PackedItem> items,
                                               bool sequential, bool use_cache, cudaStream_t s) {
  auto node_params = [&](const backend::PackedItem& it, LaunchParams& p) {
    cudaKernelNodeParams np{};
    np.func = const_cast<void*>(k.launch_fn());
    np.gridDim = dim3(blocks_for(it, k.block()));
    np.blockDim = dim3(k.block());
    np.sharedMemBytes = 0;
    np.kernelParams = p.ptrs;
    np.extra = nullptr;
    return np;
  };
  return run_graph(k, items, sequential, use_cache, s, [&](GraphAction action, Graph& g) {
    if (action == GraphAction::rebuild) {
      SPOOL_CUDA(cudaGraphCreate(&g.graph, 0));
      g.nodes.resize(items.size());
      for (std::size_t i = 0; i < items.size(); ++i) {
        LaunchParams p(items[i]);
        const cudaKernelNodeParams np = node_params(items[i], p);
        const cudaGraphNode_t* dep = sequential && i > 0 ? &g.nodes[i - 1] : nullptr;
        SPOOL_CUDA(cudaGraphAddKernelNode(&g.nodes[i], g.graph, dep, dep != nullptr ? 1 : 0, &np));
      }
      SPOOL_CUDA(cudaGraphInstantiate(&g.exec, g.graph, 0));
    } else {
      for (std::size_t i = 0; i < items.size(); ++i) {
        LaunchParams p(items[i]);
        const cudaKernelNodeParams np = node_params(items[i], p);
        SPOOL_CUDA(cudaGraphExecKernelNodeSetParams(g.exec, g.nodes[i], &np));
      }
    }
  });
}

}  // namespace spool::cuda
