// Spool inside an application that has its own CUDA setup: its stream, its
// memory, its kernels. docs/integration_cuda.md walks through it.
//
//   auto dev = spool::cuda::open_device({/*device=*/0, app_stream});
//   spool::Buffer x = spool::cuda::wrap_device_pointer(*dev, d_x, n * sizeof(float));
//   spool::Kernel k = spool::cuda::load_kernel(*dev, my_kernel());  // SPOOL_CUDA_APP_KERNEL
//   spool::Batch b(k);
//   b.add(n, {spool::arg(x), spool::arg(2.0f), spool::arg(n)});
//   dev->run(std::move(b));
//
// Ownership: Spool creates nothing it was given and destroys nothing it does
// not own. It never destroys the application's stream or memory, never
// resets the device or its primary context, and gives the calling thread's
// current device back after every call.
//
// Ordering on the borrowed stream:
//   * launches / recorded: the batch's kernels (or its CUDA graph) are
//     enqueued on the application's stream, in stream order after the
//     application's earlier work; submit()/run() return once the batch has
//     completed (which implies that earlier work has completed too), so work
//     the application enqueues afterwards runs after the batch.
//   * persistent: the queue kernel stays resident, so it runs on a stream of
//     Spool's own. Before the batch's items are published, Spool waits on the
//     host for an event recorded on the application's stream (the
//     application's earlier work); submit()/run() return once every item ran
//     (or was reported failed), so work enqueued afterwards runs after the
//     batch. A persistent batch therefore blocks the submitting thread like
//     the other two modes do.
// Lifetimes: the stream must stay valid until the last Spool call on the
// Device that uses it (any submit/run/recalibrate); destroying the
// spool::Device never touches it, so the application may destroy its stream
// before or after the Device, as long as it does not use the Device in
// between. The application's memory must outlive every batch referencing it
// (or be handed over with `keep_alive`). Do not call cudaDeviceReset() while a
// spool::Device of that device exists.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>

#include "spool/buffer.hpp"
#include "spool/cuda/app_kernel_desc.hpp"
#include "spool/device.hpp"
#include "spool/kernel.hpp"
#include "spool/runtime.hpp"

namespace spool::cuda {

// A stream the application owns and lends to Spool.
struct BorrowedStream {
  int device = 0;                 // the CUDA device ordinal the stream belongs to
  cudaStream_t stream = nullptr;  // a stream the application created, or
                                  // cudaStreamLegacy; not null, not cudaStreamPerThread
};

// A spool::Device over CUDA device `s.device` whose launches and recorded
// batches go to `s.stream`. Its identity() (the key of the stored launch
// profile) is the same as the owned device of that ordinal, so a stored
// profile is reused; calibration, when it runs, uses Spool's own streams.
// Throws spool::Error: invalid_argument for a null or per-thread stream, an
// ordinal out of range, a stream of another device; not_supported when there
// is no CUDA device (the message says why).
std::shared_ptr<spool::Device> open_device(const BorrowedStream& s, const spool::DeviceOptions& opts = {});

// `bytes` of application memory at `device_ptr` (cudaMalloc, cudaMallocAsync,
// cudaMallocManaged, or the device pointer of mapped pinned memory) as a
// spool::Buffer, usable as a kernel argument without copies. `host_ptr`:
// the host view of the same memory when it has one (managed or mapped pinned
// memory); it makes Buffer::data()/as<T>() work. Spool never frees the
// memory; `keep_alive`, when given, is held by the buffer (and by every batch
// that references it) and released with the last reference, so a custom
// deleter can free the memory at the right time. While Spool's persistent
// kernel is resident the release waits until it has stopped (a deleter's
// cudaFree would wait for the kernel, docs/cuda.md "Freeing memory"); it then
// runs on a thread of Spool's, or in park_persistent(). The deleter must not
// submit work to this Device.
// Throws spool::Error(invalid_argument): not a CUDA device, null pointer, 0
// bytes, memory CUDA does not know, memory of another device, a range past
// the end of its allocation, a host pointer that is not a view of it.
spool::Buffer wrap_device_pointer(spool::Device& device, void* device_ptr, std::uint64_t bytes,
                                  void* host_ptr = nullptr, std::shared_ptr<void> keep_alive = {});

struct AppKernelOptions {
  // Threads per block (a multiple of 32, at most what the device and the
  // compiled kernel allow); 0: 64, as for built-in kernels.
  std::uint32_t block_size = 0;
  // Identifies the kernel's source for autotune records (a version, a
  // hash); empty: derived from the name and the argument layout.
  std::string source_id;
};

// Registers an application kernel (SPOOL_CUDA_APP_KERNEL in
// spool/cuda/app_kernel.cuh) with a CUDA device, owned or borrowed. Batches
// of it are checked at Batch::add against the declared arguments, like
// built-in kernels. Loading the same descriptor again returns the same
// kernel. Throws spool::Error: invalid_argument for a device that is not a
// CUDA device, a bad descriptor, a name already taken by another descriptor,
// a bad block size; backend (with a hint) when the application's kernels
// were not compiled for this device's architecture.
spool::Kernel load_kernel(spool::Device& device, const AppKernelDesc& kernel, const AppKernelOptions& options = {});

}  // namespace spool::cuda
