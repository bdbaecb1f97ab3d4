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
// Callers hold exec_mu() and have made the device current.
#include "cu_check.hpp"
#include "cu_device.hpp"

namespace spool::cuda {

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
  return run_graph(k, items, sequential, use_cache, s, [&](GraphAction action, Graph& g) {
    if (action == GraphAction::rebuild) {
      g.graph = capture(k, items);
      SPOOL_CUDA(cudaGraphInstantiate(&g.exec, g.graph, 0));
      return;
    }
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
  });
}

}  // namespace spool::cuda
