// The CUDA built-ins race their declared block sizes like the Vulkan
// built-ins race workgroup sizes. Host side (runs everywhere): the table
// declares them and a kernel loaded at the default size carries them to the
// racer (whose choice of candidates runtime_tests' Racer.* cover). On a GPU:
// batches alternate between the default and the first declared size. Skips,
// saying why, without a CUDA device.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "builtin_table.hpp"
#include "cu_args.hpp"
#include "cu_kernel.hpp"
#include "spool/cuda/backend.hpp"
#include "spool/spool.hpp"

namespace {

TEST(CudaRace, EveryBuiltinDeclaresBlockSizesToRace) {
  std::size_t n = 0;
  const auto* t = spool::cuda::kernels::builtin_cuda(&n);
  ASSERT_GT(n, 0u);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_GT(t[i].race_block_count, 0u) << t[i].name;
    for (std::uint32_t j = 0; j < t[i].race_block_count; ++j) {
      const std::uint32_t b = t[i].race_blocks[j];
      EXPECT_EQ(b % 32, 0u) << t[i].name << " block " << b << " is not whole warps";
      EXPECT_LE(b, 1024u) << t[i].name;
      EXPECT_NE(b, spool::cuda::kDefaultBlock) << t[i].name << ": the default is the baseline, not a candidate";
    }
  }
}

TEST(CudaRace, AKernelCarriesItsDeclaredSizesToTheRacer) {
  std::size_t n = 0;
  const auto* t = spool::cuda::kernels::builtin_cuda(&n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto* layout = spool::cuda::find_layout(t[i].name);
    ASSERT_NE(layout, nullptr) << t[i].name;
    spool::cuda::CuKernelImpl k(0, t[i], *layout, spool::cuda::kDefaultBlock);
    EXPECT_EQ(k.desc().race_workgroups,
              std::vector<std::uint32_t>(t[i].race_blocks, t[i].race_blocks + t[i].race_block_count));
    EXPECT_EQ(k.desc().variant, "wg=64");
    EXPECT_EQ(k.desc().source_hash.rfind("sha256:", 0), 0u) << k.desc().source_hash;
  }
}

TEST(CudaRace, BuiltinsRaceOnAGpu) {
  std::vector<std::unique_ptr<spool::backend::Backend>> backends;
  backends.push_back(spool::cuda::make_backend());
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "race";
  o.device_options.autotune_db = ":memory:";
  spool::Runtime rt(std::move(backends), o);
  if (rt.devices().empty()) {
    GTEST_SKIP() << "no CUDA device: " << (rt.notes().empty() ? std::string("none found") : rt.notes()[0]);
  }
  auto dev = rt.open_default();
  constexpr std::uint32_t kItems = 16, kGrid = 1024;
  spool::Buffer x = dev->buffer(kItems * kGrid * 4), y = dev->buffer(kItems * kGrid * 4);
  spool::Kernel k = dev->kernel("saxpy");
  for (int i = 0; i < 4; ++i) {
    for (float& f : x.as<float>()) f = 1.0f;
    for (float& f : y.as<float>()) f = 2.0f;
    spool::Batch b(k);
    for (std::uint32_t j = 0; j < kItems; ++j) {
      b.add(kGrid, {spool::arg(x, j * kGrid * 4), spool::arg(y, j * kGrid * 4), spool::arg(3.0f), spool::arg(kGrid)});
    }
    const spool::Verdict v = dev->run(std::move(b));
    ASSERT_TRUE(v.ok()) << v.failure;
    EXPECT_EQ(v.race_role, i % 2 == 0 ? "baseline" : "speculative");
    EXPECT_EQ(v.variant, i % 2 == 0 ? "wg=64" : "wg=32");
    for (float f : y.as<float>()) ASSERT_EQ(f, 5.0f);
  }
}

}  // namespace
