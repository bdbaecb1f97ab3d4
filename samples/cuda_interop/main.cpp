// cuda_interop: an application with its own CUDA stream, memory and kernels
// hands them to Spool.
//
//   * The application (app_kernels.cu) has its own kernels (fill_ramp,
//     add_into) and one __device__ body, axpy, that SPOOL_CUDA_APP_KERNEL
//     turns into Spool's per-item and persistent kernels, compiled by the
//     application's nvcc.
//   * It creates its stream and cudaMalloc buffers, lends the stream to Spool
//     (spool::cuda::open_device) and wraps its pointers as spool::Buffers.
//   * In each mode (launches, recorded, persistent) it interleaves on that
//     one stream: its own slow producer kernel writes x, Spool runs a
//     sequential batch of axpy (reads x, writes y) and the built-in saxpy on
//     the same memory, its own kernel reads y into z; the result is checked
//     against a CPU reference and every verdict is printed.
//   * Spool is shut down first; the stream and memory stay the application's
//     and are used once more before the application frees them.
//
// Without a CUDA device it prints "skipped: <reason>" and exits 0 (CI).
//   spool_cuda_interop [--n N] [--items K] [--rounds R]   (--help: usage)
#include <spool/cuda/interop.hpp>
#include <spool/spool.hpp>

#include <cuda_runtime_api.h>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "app.hpp"

namespace {

// The application's own error handling.
void app_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(e));
}

// The application's RAII for its stream and memory (Spool never frees them).
struct AppStream {
  cudaStream_t s = nullptr;
  AppStream() { app_check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }
  ~AppStream() { cudaStreamDestroy(s); }
  AppStream(const AppStream&) = delete;
  AppStream& operator=(const AppStream&) = delete;
};
struct AppMemory {
  float* p = nullptr;
  explicit AppMemory(std::size_t n) { app_check(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(float)), "cudaMalloc"); }
  ~AppMemory() { cudaFree(p); }
  AppMemory(const AppMemory&) = delete;
  AppMemory& operator=(const AppMemory&) = delete;
};

void print_verdict(const char* what, const spool::Verdict& v) {
  auto us = [](double ns) { return ns < 0 ? std::string("-") : std::to_string(ns / 1000.0).substr(0, 7); };
  std::printf("%-16s %4u items  %-10s%s  predicted us L/R/P %8s %8s %8s  measured %8s us  ran %u failed %u%s%s\n",
              what, v.items, std::string(spool::policy::to_string(v.mode)).c_str(), v.forced ? "(forced)" : "        ",
              us(v.predicted_ns[0]).c_str(), us(v.predicted_ns[1]).c_str(), us(v.predicted_ns[2]).c_str(),
              us(v.measured_ns).c_str(), v.items_run, v.items_failed, v.failure.empty() ? "" : "  ",
              v.failure.c_str());
}

int run(std::uint32_t n, std::uint32_t items, std::uint32_t rounds) {
  constexpr float kA = 0.5f, kSaxpyA = 2.0f;
  constexpr std::uint32_t kDelayCycles = 200000;  // a slow producer (~0.1 ms)
  app_check(cudaSetDevice(0), "cudaSetDevice");
  AppStream stream;
  AppMemory x(n), y(n), z(n);
  app_check(cudaMemsetAsync(z.p, 0, n * sizeof(float), stream.s), "cudaMemsetAsync");
  std::vector<float> ref_z(n, 0.0f), host(n);
  int failures = 0;
  {
    auto dev = spool::cuda::open_device({0, stream.s});
    std::printf("cuda_interop: %s (%s), borrowed stream, launch profile from %s\n", dev->name().c_str(),
                dev->info().driver_version.c_str(), dev->profile().source.c_str());
    const spool::Buffer bx = spool::cuda::wrap_device_pointer(*dev, x.p, n * sizeof(float));
    const spool::Buffer by = spool::cuda::wrap_device_pointer(*dev, y.p, n * sizeof(float));
    const spool::Kernel axpy = spool::cuda::load_kernel(*dev, app::axpy_kernel());
    const spool::Kernel saxpy = dev->kernel("saxpy");
    const spool::LaunchMode modes[] = {spool::LaunchMode::launches, spool::LaunchMode::recorded,
                                       spool::LaunchMode::persistent};
    float base = 1.0f;
    for (spool::LaunchMode mode : modes) {
      for (std::uint32_t r = 0; r < rounds; ++r, base += 1.0f) {
        // The application writes x (slowly) and zeroes y on its stream.
        app_check(app::fill_ramp(x.p, base, n, kDelayCycles, stream.s), "fill_ramp");
        app_check(cudaMemsetAsync(y.p, 0, n * sizeof(float), stream.s), "cudaMemsetAsync");
        // Spool: `items` sequential axpy steps over the application's memory ...
        spool::Batch b(axpy, spool::Ordering::sequential);
        for (std::uint32_t k = 0; k < items; ++k) b.add(n, {spool::arg(bx), spool::arg(by), spool::arg(kA), spool::arg(n)});
        print_verdict("app.axpy", dev->run(std::move(b), {mode}));
        // ... and the built-in saxpy on the same memory.
        spool::Batch s(saxpy);
        s.add(n, {spool::arg(bx), spool::arg(by), spool::arg(kSaxpyA), spool::arg(n)});
        print_verdict("saxpy (built-in)", dev->run(std::move(s), {mode}));
        // The application reads y.
        app_check(app::add_into(z.p, y.p, n, stream.s), "add_into");
        for (std::uint32_t i = 0; i < n; ++i) {
          const float xi = base + static_cast<float>(i);
          float yi = 0.0f;
          for (std::uint32_t k = 0; k < items; ++k) yi = kA * xi + yi;
          ref_z[i] += kSaxpyA * xi + yi;
        }
      }
      app_check(cudaMemcpyAsync(host.data(), z.p, n * sizeof(float), cudaMemcpyDeviceToHost, stream.s), "cudaMemcpyAsync");
      app_check(cudaStreamSynchronize(stream.s), "cudaStreamSynchronize");
      std::uint32_t bad = 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        if (std::fabs(host[i] - ref_z[i]) > 1e-4f * std::fabs(ref_z[i]) + 1e-3f) {
          if (bad++ < 3) std::printf("  z[%u] = %g, CPU reference %g\n", i, host[i], ref_z[i]);
        }
      }
      std::printf("cuda_interop: %s: %s (%u of %u elements differ)\n",
                  std::string(spool::policy::to_string(mode)).c_str(), bad == 0 ? "matches the CPU" : "MISMATCH", bad, n);
      failures += bad != 0 ? 1 : 0;
    }
  }  // Spool's device is gone; the stream and the memory are still the application's.
  app_check(app::add_into(z.p, y.p, n, stream.s), "add_into after Spool shut down");
  app_check(cudaStreamSynchronize(stream.s), "cudaStreamSynchronize after Spool shut down");
  if (failures != 0) {
    std::printf("cuda_interop: FAILED (%d modes mismatch)\n", failures);
    return 1;
  }
  std::printf("cuda_interop: all checks passed\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint32_t n = 1u << 16, items = 8, rounds = 2;
  CLI::App cli{"An application with its own CUDA stream, memory and kernels hands them to Spool;\n"
               "every mode is checked against the CPU. Without a CUDA device it says so and exits 0.",
               "spool_cuda_interop"};
  cli.add_option("--n", n, "elements per buffer")->check(CLI::Range(1u, 1u << 26))->capture_default_str();
  cli.add_option("--items", items, "axpy steps per batch")->check(CLI::Range(1u, 4096u))->capture_default_str();
  cli.add_option("--rounds", rounds, "rounds per mode")->check(CLI::Range(1u, 100u))->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& pe) {
    return cli.exit(pe) == 0 ? 0 : 2;
  }
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    std::printf("cuda_interop: skipped: no CUDA device (%s)\n",
                e != cudaSuccess ? cudaGetErrorName(e) : "cudaGetDeviceCount found none");
    return 0;
  }
  try {
    return run(n, items, rounds);
  } catch (const std::exception& ex) {
    std::printf("cuda_interop: FAILED: %s\n", ex.what());
    return 1;
  }
}
