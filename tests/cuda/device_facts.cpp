// cuda_device_facts: what the CUDA backend's persistent mode depends on, read
// from CUDA device 0 (scripts/gpu_check.sh prints it first): SMs, the
// persistent kernels' occupancy and resources at the block sizes autotune
// races, the grid and chunk Spool would choose, whether host and device
// atomics are coherent on mapped memory, concurrent managed access. Prints
// "key: value" lines, or a Markdown table with --markdown.
// Exit status: 0, 2 without a CUDA device (the reason is printed), 1 on a
// CUDA error.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "builtin_table.hpp"
#include "cu_grid.hpp"

namespace {

std::vector<std::pair<std::string, std::string>> facts;

void put(std::string k, std::string v) { facts.emplace_back(std::move(k), std::move(v)); }

int attr(cudaDeviceAttr a, int dev) {
  int v = -1;
  if (cudaDeviceGetAttribute(&v, a, dev) != cudaSuccess) {
    (void)cudaGetLastError();
    return -1;
  }
  return v;
}

std::string version(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

}  // namespace

int main(int argc, char** argv) {
  const bool markdown = argc > 1 && std::strcmp(argv[1], "--markdown") == 0;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    std::printf("cuda_device_facts: no CUDA device (%s)\n", e != cudaSuccess ? cudaGetErrorName(e) : "0 devices");
    return 2;
  }
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) {
    std::printf("cuda_device_facts: cudaGetDeviceProperties failed\n");
    return 1;
  }
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  put("device", p.name);
  put("compute capability", std::to_string(p.major) + "." + std::to_string(p.minor));
  put("CUDA driver / runtime", version(driver) + " / " + version(runtime));
  const int sms = p.multiProcessorCount;
  put("SMs", std::to_string(sms));
  put("max threads per SM", std::to_string(attr(cudaDevAttrMaxThreadsPerMultiProcessor, 0)));
  put("max blocks per SM", std::to_string(attr(cudaDevAttrMaxBlocksPerMultiprocessor, 0)));
  put("L2 bytes", std::to_string(attr(cudaDevAttrL2CacheSize, 0)));
  put("cudaDevAttrHostNativeAtomicSupported", std::to_string(attr(cudaDevAttrHostNativeAtomicSupported, 0)));
  put("cudaDevAttrConcurrentManagedAccess", std::to_string(attr(cudaDevAttrConcurrentManagedAccess, 0)));
  put("cudaDevAttrPageableMemoryAccess", std::to_string(attr(cudaDevAttrPageableMemoryAccess, 0)));
  put("cudaDevAttrCanMapHostMemory", std::to_string(attr(cudaDevAttrCanMapHostMemory, 0)));
  put("cudaDevAttrCanUseHostPointerForRegisteredMem",
      std::to_string(attr(cudaDevAttrCanUseHostPointerForRegisteredMem, 0)));
  put("PCI bus / device", std::to_string(p.pciBusID) + " / " + std::to_string(p.pciDeviceID));

  std::size_t n = 0;
  const auto* table = spool::cuda::kernels::builtin_cuda(&n);
  for (std::size_t i = 0; i < n; ++i) {
    if (std::strcmp(table[i].name, "tally") != 0 && std::strcmp(table[i].name, "saxpy") != 0) continue;
    cudaFuncAttributes fa{};
    if (cudaFuncGetAttributes(&fa, table[i].persistent) != cudaSuccess) {
      std::printf("cuda_device_facts: cudaFuncGetAttributes(spool_cu_persistent_%s): %s\n", table[i].name,
                  cudaGetErrorName(cudaGetLastError()));
      return 1;
    }
    const std::string k = std::string("persistent ") + table[i].name;
    put(k + " registers / static shared bytes / local bytes",
        std::to_string(fa.numRegs) + " / " + std::to_string(fa.sharedSizeBytes) + " / " +
            std::to_string(fa.localSizeBytes));
    for (const int block : {32, 64, 128, 256}) {
      int per_sm = 0;
      if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, table[i].persistent, block, 0) != cudaSuccess) {
        (void)cudaGetLastError();
        per_sm = -1;
      }
      const std::uint32_t grid = spool::cuda::persistent_grid(static_cast<std::uint32_t>(sms), per_sm, 0);
      put(k + " block " + std::to_string(block),
          "occupancy " + std::to_string(per_sm) + " blocks/SM (" + std::to_string(per_sm * sms) +
              " resident); Spool's grid " + std::to_string(grid) + " blocks; chunk " +
              std::to_string(spool::cuda::persistent_chunk(static_cast<std::uint32_t>(block))) + " indices");
    }
  }
  if (markdown) {
    std::printf("| fact | value |\n| --- | --- |\n");
    for (const auto& [k, v] : facts) std::printf("| %s | %s |\n", k.c_str(), v.c_str());
  } else {
    for (const auto& [k, v] : facts) std::printf("%s: %s\n", k.c_str(), v.c_str());
  }
  return 0;
}
