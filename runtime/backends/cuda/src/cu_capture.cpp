// The `recorded` mode for application kernels. Their host stubs live in the
// application's CUDA runtime, so Spool cannot add them to a graph as explicit
// kernel nodes; instead the batch's launches (through the application's
// thunks) are captured on Spool's own stream (stream capture is a driver
// state of the stream, so launches from another runtime instance are
// captured too) into a graph, cached by shape like built-in graphs:
//   same shape, same arguments  -> replay
//   same shape, other arguments -> re-capture, cudaGraphExecUpdate the
//                                  instantiated graph (re-instantiate if the
//                                  update is refused)
//   otherwise                   -> capture + instantiate
// A captured batch is always a chain (stream order), sequential or not.
// Callers hold mu_ and have made the device current.
#include <chrono>

#include "cu_check.hpp"
#include "cu_device.hpp"

namespace spool::cuda {

namespace {
using Clock = std::chrono::steady_clock;
}

cudaGraph_t CuDeviceImpl::capture(const CuKernelImpl& k, std::span<const backend::PackedItem> items) {
  const cudaStream_t cs = own_stream_.get();
  SPOOL_CUDA(cudaStreamBeginCapture(cs, cudaStreamCaptureModeThreadLocal));
  try {
    for (const auto& it : items) k.launch(it, cs);
  } catch (...) {
    cudaGraph_t partial = nullptr;
    if (cudaStreamEndCapture(cs, &partial) == cudaSuccess && partial != nullptr) {
      cudaGraphDestroy(partial);
    } else {
      (void)cudaGetLastError();  // the capture was invalidated by the failed launch
    }
    throw;
  }
  cudaGraph_t g = nullptr;
  SPOOL_CUDA(cudaStreamEndCapture(cs, &g));
  return g;
}

backend::ExecResult CuDeviceImpl::run_captured(const CuKernelImpl& k,
                                               std::span<const backend::PackedItem> items,
                                               bool sequential, bool use_cache, cudaStream_t s) {
  const Timing timing = begin_timing(s);
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

  Clock::time_point enqueued;
  try {
    if (plan.action == GraphAction::rebuild) {
      if (use_cache) destroy_graph(plan.entry);
      g.graph = capture(k, items);
      SPOOL_CUDA(cudaGraphInstantiate(&g.exec, g.graph, 0));
    } else if (plan.action == GraphAction::update) {
      cudaGraph_t fresh = capture(k, items);
      cudaGraphExecUpdateResultInfo info{};
      const cudaError_t e = cudaGraphExecUpdate(g.exec, fresh, &info);
      cudaGraphDestroy(g.graph);
      g.graph = fresh;
      if (e != cudaSuccess) {  // topology or node kind changed: instantiate anew
        (void)cudaGetLastError();
        cudaGraphExecDestroy(g.exec);
        g.exec = nullptr;
        SPOOL_CUDA(cudaGraphInstantiate(&g.exec, g.graph, 0));
      }
    }
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
    (void)cudaGetLastError();
  }
  if (!use_cache) {
    cudaGraphExecDestroy(scratch.exec);
    cudaGraphDestroy(scratch.graph);
  }
  return r;
}

}  // namespace spool::cuda
