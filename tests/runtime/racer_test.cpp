// The racer's choice of candidates (host only, no device): a kernel that
// declares workgroup sizes races those, built from the kernel itself through
// the loader (DeviceImpl::load_variant) -- how kernels from spool_add_kernels
// WORKGROUP_SIZES and the CUDA built-ins (declared block sizes) race; a
// kernel that declares none races the device's list (SPOOL_AUTOTUNE_WG).
// End-to-end racing on a real device: autotune_race_test.cpp (lavapipe).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mock_backend.hpp"
#include "racer.hpp"

namespace {

using namespace spool;

std::shared_ptr<backend::KernelImpl> kernel(std::string variant, std::vector<std::uint32_t> declared) {
  backend::KernelDesc d;
  d.name = "app_scale";
  d.variant = std::move(variant);
  d.source_hash = "sha256:app";
  d.tunable = true;
  d.race_workgroups = std::move(declared);
  d.arg_block_size = 16;
  return std::make_shared<test::MockKernel>(d);
}

struct Fixture {
  std::vector<std::pair<std::string, std::uint32_t>> loads;  // (kernel, workgroup) the loader built
  std::shared_ptr<autotune::Store> store = autotune::Store::open(":memory:");
  Racer make(std::vector<std::uint32_t> device_list, std::uint32_t max_wg = 1024) {
    return Racer(store, autotune::DeviceKey{"vulkan", "u", "mock", "1", "1.2"}, AutotuneMode::race,
                 [this](const backend::KernelImpl& k, std::uint32_t wg) {
                   loads.emplace_back(k.desc().name, wg);
                   return kernel("wg=" + std::to_string(wg), {});
                 },
                 std::move(device_list), max_wg);
  }
};

TEST(Racer, RacesTheDeclaredSizesBuiltFromTheKernelItself) {
  Fixture f;
  Racer r = f.make({16});
  const auto k = kernel("wg=64", {32, 128});
  const RacePick first = r.pick(k, 100, 256);
  EXPECT_EQ(first.role, "baseline");
  EXPECT_EQ(first.kernel, nullptr);  // the baseline is the kernel as loaded
  const RacePick second = r.pick(k, 100, 256);
  EXPECT_EQ(second.role, "speculative");
  ASSERT_NE(second.kernel, nullptr);
  EXPECT_EQ(second.kernel->desc().variant, "wg=32");
  ASSERT_EQ(f.loads.size(), 1u);
  EXPECT_EQ(f.loads[0], std::make_pair(std::string("app_scale"), 32u));
}

TEST(Racer, RacesTheDeviceListWhenTheKernelDeclaresNone) {
  Fixture f;
  Racer r = f.make({16});
  const auto k = kernel("wg=64", {});
  (void)r.pick(k, 100, 256);
  const RacePick spec = r.pick(k, 100, 256);
  ASSERT_NE(spec.kernel, nullptr);
  EXPECT_EQ(spec.kernel->desc().variant, "wg=16");
}

TEST(Racer, SkipsDeclaredSizesAboveTheDeviceLimitAndTheBaseline) {
  Fixture f;
  Racer r = f.make({}, 128);
  const auto k = kernel("wg=64", {64, 1024, 128});
  (void)r.pick(k, 100, 256);
  const RacePick spec = r.pick(k, 100, 256);
  ASSERT_NE(spec.kernel, nullptr);
  EXPECT_EQ(spec.kernel->desc().variant, "wg=128");
  ASSERT_EQ(f.loads.size(), 1u);  // neither 64 (the baseline) nor 1024 was built
}

TEST(Racer, LeavesKernelsThatCannotRaceAlone) {
  Fixture f;
  Racer r = f.make({16});
  backend::KernelDesc d;
  d.name = "fixed";
  d.variant = "wg=64";
  d.tunable = false;  // e.g. a module that fixes its workgroup size, or loaded with a variant
  const RacePick p = r.pick(std::make_shared<test::MockKernel>(d), 100, 256);
  EXPECT_TRUE(p.role.empty());
  EXPECT_TRUE(f.loads.empty());
}

}  // namespace
