// RAII for the CUDA handles the backend creates, and a scope that makes a
// device current for the calling thread and gives the caller's device back
// (Spool is called from the application's threads: it must not leave them on
// another device). Destructors are unchecked: they must not throw, and a
// sticky error is reported by the next checked call.
#pragma once

#include <cuda_runtime_api.h>

#include <utility>

#include "cu_check.hpp"

namespace spool::cuda {

class Stream {
 public:
  Stream() = default;
  // A non-blocking stream (no implicit synchronisation with the legacy
  // default stream) on the current device.
  static Stream non_blocking() {
    Stream s;
    SPOOL_CUDA(cudaStreamCreateWithFlags(&s.s_, cudaStreamNonBlocking));
    return s;
  }
  ~Stream() { reset(); }
  Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const noexcept { return s_; }
  void reset() noexcept {
    if (s_ != nullptr) static_cast<void>(cudaStreamDestroy(s_));
    s_ = nullptr;
  }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  Event() = default;
  static Event create(unsigned flags = cudaEventDefault) {
    Event e;
    SPOOL_CUDA(cudaEventCreateWithFlags(&e.e_, flags));
    return e;
  }
  ~Event() { reset(); }
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      reset();
      e_ = std::exchange(o.e_, nullptr);
    }
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const noexcept { return e_; }
  void reset() noexcept {
    if (e_ != nullptr) static_cast<void>(cudaEventDestroy(e_));
    e_ = nullptr;
  }

 private:
  cudaEvent_t e_ = nullptr;
};

// Makes `device` current; restores the previous device at scope exit.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    int current = -1;
    SPOOL_CUDA(cudaGetDevice(&current));
    if (current != device) {
      SPOOL_CUDA(cudaSetDevice(device));
      previous_ = current;
    }
  }
  ~DeviceScope() {
    if (previous_ >= 0) static_cast<void>(cudaSetDevice(previous_));
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace spool::cuda
