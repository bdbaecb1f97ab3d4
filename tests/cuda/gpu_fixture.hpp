// Shared by the GPU tests of the CUDA backend: opening a device with SPOOL_*
// options set for it, running a batch and waiting for its completion, and
// device memory for the tests. Every test skips, saying why, when no CUDA
// device is found.
#pragma once

#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cu_device.hpp"
#include "spool/cuda/backend.hpp"

namespace spool::test {

// Opens CUDA device 0 with `env` set (the SPOOL_* options are read when a
// device opens), restoring the environment afterwards.
inline std::unique_ptr<backend::DeviceImpl> open_cuda(backend::Backend& be,
                                                      const std::map<std::string, std::string>& env) {
  std::map<std::string, std::optional<std::string>> saved;
  for (const auto& [k, v] : env) {
    const char* old = std::getenv(k.c_str());
    saved[k] = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
    setenv(k.c_str(), v.c_str(), 1);
  }
  std::string why;
  auto infos = be.enumerate(&why);
  std::unique_ptr<backend::DeviceImpl> dev;
  if (!infos.empty()) dev = be.open(0);
  for (const auto& [k, v] : saved) {
    if (v) {
      setenv(k.c_str(), v->c_str(), 1);
    } else {
      unsetenv(k.c_str());
    }
  }
  return dev;
}

inline backend::ExecResult run_batch(backend::DeviceImpl& dev, LaunchMode m, backend::KernelImpl& k,
                                     std::span<const backend::PackedItem> items, bool seq = false) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  backend::ExecResult out;
  dev.execute(m, backend::ExecRequest{&k, items, seq}, [&](backend::ExecResult&& r) {
    std::lock_guard g(mu);
    out = std::move(r);
    done = true;
    cv.notify_all();
  });
  std::unique_lock g(mu);
  cv.wait(g, [&] { return done; });
  return out;
}

inline cuda::CuDeviceImpl& cu(backend::DeviceImpl& d) { return dynamic_cast<cuda::CuDeviceImpl&>(d); }

// Device memory of the test (not a Spool buffer), with copies.
template <class T>
struct DeviceArray {
  T* p = nullptr;
  std::size_t n = 0;
  explicit DeviceArray(std::size_t count) : n(count) {
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&p), std::max<std::size_t>(n, 1) * sizeof(T)), cudaSuccess);
  }
  ~DeviceArray() { cudaFree(p); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  void put(const std::vector<T>& h) {
    EXPECT_EQ(cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<T> get() const {
    std::vector<T> h(n);
    EXPECT_EQ(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
  std::uint64_t addr(std::size_t offset = 0) const {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p + offset));
  }
};

inline const LaunchMode kModes[] = {LaunchMode::launches, LaunchMode::recorded, LaunchMode::persistent};

}  // namespace spool::test
