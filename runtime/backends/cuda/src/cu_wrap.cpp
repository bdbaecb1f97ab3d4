#include "cu_wrap.hpp"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>

#include "spool/error.hpp"

namespace spool::cuda {

namespace {

// cuMemGetAddressRange from the driver, without linking libcuda: the runtime
// hands out the driver's entry point (null when the driver has none).
PFN_cuMemGetAddressRange_v3020 address_range_fn() {
  static const PFN_cuMemGetAddressRange_v3020 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult status{};
    if (cudaGetDriverEntryPointByVersion("cuMemGetAddressRange", &p, 12000, cudaEnableDefault, &status) !=
            cudaSuccess ||
        status != cudaDriverEntryPointSuccess) {
      static_cast<void>(cudaGetLastError());
      p = nullptr;
    }
    return reinterpret_cast<PFN_cuMemGetAddressRange_v3020>(p);
  }();
  return fn;
}

const char* type_name(cudaMemoryType t) {
  switch (t) {
    case cudaMemoryTypeUnregistered: return "unregistered host memory (not known to CUDA)";
    case cudaMemoryTypeHost: return "pinned host memory";
    case cudaMemoryTypeDevice: return "device memory";
    case cudaMemoryTypeManaged: return "managed memory";
  }
  return "unknown memory";
}

std::string hex(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

[[noreturn]] void bad(const std::string& msg, int line) {
  throw Error(Errc::invalid_argument, "wrap_device_pointer: " + msg, "spool::cuda::wrap_device_pointer", {},
              __FILE__, line);
}

}  // namespace

PointerFacts query_pointer(const void* p) {
  PointerFacts f;
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    static_cast<void>(cudaGetLastError());  // an unknown pointer: not an error to keep
    return f;
  }
  f.type = a.type;
  f.device = a.device;
  f.device_pointer = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(a.devicePointer));
  if (f.device_pointer != 0) {
    if (auto range = address_range_fn()) {
      CUdeviceptr base = 0;
      std::size_t size = 0;
      if (range(&base, &size, static_cast<CUdeviceptr>(f.device_pointer)) == CUDA_SUCCESS) {
        f.alloc_base = static_cast<std::uint64_t>(base);
        f.alloc_bytes = static_cast<std::uint64_t>(size);
      }
    }
  }
  return f;
}

void check_wrap(int ordinal, const void* ptr, std::uint64_t bytes, const PointerFacts& f, const void* host,
                const PointerFacts* host_facts) {
  if (ptr == nullptr) bad("the device pointer is null", __LINE__);
  const auto p = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ptr));
  if (bytes == 0) bad("0 bytes at " + hex(p), __LINE__);
  if (p + bytes < p) bad(std::to_string(bytes) + " bytes at " + hex(p) + " wrap around the address space", __LINE__);
  const std::string what = std::to_string(bytes) + " bytes at " + hex(p);
  switch (f.type) {
    case cudaMemoryTypeDevice:
      if (f.device != ordinal) {
        bad(what + ": device memory of CUDA device " + std::to_string(f.device) + ", not of device " +
                std::to_string(ordinal) + " (this spool::Device)",
            __LINE__);
      }
      break;
    case cudaMemoryTypeManaged:
      break;
    case cudaMemoryTypeHost:
      if (f.device_pointer == 0) bad(what + ": pinned host memory that is not mapped into the device", __LINE__);
      if (f.device_pointer != p) {
        bad(what + ": a host pointer; pass the device pointer of this mapped memory (" + hex(f.device_pointer) +
                ") and the host pointer as `host`",
            __LINE__);
      }
      break;
    default:
      bad(what + ": " + type_name(f.type) +
              "; pass memory from cudaMalloc / cudaMallocAsync / cudaMallocManaged or mapped pinned memory",
          __LINE__);
  }
  if (f.alloc_bytes != 0) {
    const std::uint64_t end = f.alloc_base + f.alloc_bytes;
    if (p < f.alloc_base || p >= end) {
      bad(what + ": not inside the allocation CUDA reports for it (" + hex(f.alloc_base) + ", " +
              std::to_string(f.alloc_bytes) + " bytes)",
          __LINE__);
    }
    if (p + bytes > end) {
      bad(what + " run past the end of their allocation (" + hex(f.alloc_base) + ", " +
              std::to_string(f.alloc_bytes) + " bytes): " + std::to_string(p + bytes - end) + " bytes too many",
          __LINE__);
    }
  } else if (f.type != cudaMemoryTypeHost) {
    bad(what + ": CUDA did not report the extent of the allocation (cuMemGetAddressRange), so the range "
               "cannot be checked",
        __LINE__);
  }
  if (host != nullptr) {
    const auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(host));
    if (host_facts == nullptr || host_facts->device_pointer != p) {
      bad(what + ": host pointer " + hex(h) + " is not the host view of this memory (" +
              (host_facts != nullptr && host_facts->device_pointer != 0
                   ? "it maps to " + hex(host_facts->device_pointer)
                   : std::string("it is not mapped device-accessible memory")) +
              ")",
          __LINE__);
    }
  }
}

}  // namespace spool::cuda
