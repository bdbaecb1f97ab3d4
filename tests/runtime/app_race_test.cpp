// Kernels an application builds with spool_add_kernels() race like the
// built-ins when they declare WORKGROUP_SIZES (lavapipe), keyed by the
// embedded sha256: source hash; without declared sizes they never race.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "race_kernels.hpp"
#include "spool/spool.hpp"
#include "still_kernels.hpp"

namespace {

constexpr std::uint32_t kItems = 8, kGrid = 128;

std::shared_ptr<spool::Device> open_racing() {
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "race";
  o.device_options.autotune_db = ":memory:";
  o.device_options.autotune_wg = "256";  // the device's list: not what declared kernels race
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

spool::Verdict run(spool::Device& d, const spool::Kernel& k, spool::Buffer& x) {
  for (float& f : x.as<float>()) f = 2.0f;
  spool::Batch b(k);
  for (std::uint32_t i = 0; i < kItems; ++i) b.add(kGrid, {spool::arg(x, i * kGrid * 4), spool::arg(3.0f), spool::arg(kGrid)});
  spool::SubmitOptions o;
  o.force_mode = spool::LaunchMode::recorded;
  spool::Verdict v = d.run(std::move(b), o);
  for (float f : x.as<float>()) EXPECT_EQ(f, 7.0f) << "variant " << v.variant;  // CPU reference: 2 * 3 + 1
  return v;
}

TEST(AppKernelRace, DeclaredWorkgroupSizesRaceLikeBuiltIns) {
  auto dev = open_racing();
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  const spool::EmbeddedKernel& ek = race_kernels::race_scale();
  ASSERT_EQ(ek.workgroup_sizes.size(), 2u);
  spool::Kernel k = dev->load(ek);
  EXPECT_EQ(k.source_hash(), std::string(ek.source_hash));
  EXPECT_EQ(k.source_hash().rfind("sha256:", 0), 0u) << k.source_hash();
  EXPECT_EQ(k.source_hash().size(), 7u + 64u);
  spool::Buffer x = dev->buffer(kItems * kGrid * 4);
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    const spool::Verdict v = run(*dev, k, x);
    ASSERT_TRUE(v.ok()) << v.failure;
    EXPECT_EQ(v.race_role, i % 2 == 0 ? "baseline" : "speculative");
    EXPECT_EQ(v.variant, i % 2 == 0 ? "wg=64" : "wg=32");  // the first declared size, not the device's 256
    EXPECT_EQ(v.race_speculative, "wg=32");
  }
}

TEST(AppKernelRace, KernelsWithoutDeclaredSizesDoNotRace) {
  auto dev = open_racing();
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  spool::Kernel k = dev->load(still_kernels::still_scale());
  spool::Buffer x = dev->buffer(kItems * kGrid * 4);
  for (int i = 0; i < 3; ++i) {
    const spool::Verdict v = run(*dev, k, x);
    EXPECT_TRUE(v.race_role.empty());
    EXPECT_EQ(v.variant, "wg=64");
  }
}

}  // namespace
