// Damaged SPIR-V is a clear spool::Error, never a crash: every built-in
// module with random bytes flipped goes through validation and reflection
// (no device needed), and a sample of them through Device::load_spirv on
// lavapipe. A failing case prints its seed: rerun with SPOOL_TEST_SEED=<seed>.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "spool/kernels/builtin_glsl.hpp"
#include "spool/spool.hpp"
#include "vk_kernel.hpp"

namespace {

std::uint64_t base_seed() {
  const char* s = std::getenv("SPOOL_TEST_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : 20240611u;
}

// `words` with `flips` random bytes XORed with a random non-zero value.
std::vector<std::uint32_t> mutate(std::span<const std::uint32_t> words, std::uint64_t seed, int flips) {
  std::vector<std::uint32_t> out(words.begin(), words.end());
  std::mt19937_64 rng(seed);
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  std::uniform_int_distribution<std::size_t> where(0, out.size() * 4 - 1);
  std::uniform_int_distribution<int> value(1, 255);
  for (int i = 0; i < flips; ++i) bytes[where(rng)] ^= static_cast<unsigned char>(value(rng));
  return out;
}

TEST(SpirvValidation, AcceptsEveryBuiltInModule) {
  for (const auto& k : spool::kernels::builtin_glsl()) {
    EXPECT_NO_THROW(spool::vulkan::validate_spirv(k.launch_spirv, std::string(k.name))) << k.name;
    EXPECT_NO_THROW(spool::vulkan::validate_spirv(k.persistent_spirv, std::string(k.name))) << k.name;
    EXPECT_NO_THROW((void)spool::vulkan::reflect_kernel(k.launch_spirv, std::string(k.name))) << k.name;
  }
}

TEST(SpirvValidation, RefusesDamagedModulesWithAClearErrorAndNeverCrashes) {
  const std::uint64_t seed0 = base_seed();
  int cases = 0, refused = 0;
  for (const auto& k : spool::kernels::builtin_glsl()) {
    for (auto words : {k.launch_spirv, k.persistent_spirv}) {
      for (int i = 0; i < 60; ++i, ++cases) {
        const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(cases);
        const auto bad = mutate(words, seed, 8);
        try {
          (void)spool::vulkan::reflect_kernel(bad, "mutant");
        } catch (const spool::Error& e) {
          ++refused;
          EXPECT_EQ(e.code(), spool::Errc::invalid_argument) << "seed " << seed << ": " << e.what();
          EXPECT_NE(std::string(e.what()).find("kernel 'mutant'"), std::string::npos) << e.what();
        } catch (const std::exception& e) {
          ADD_FAILURE() << "seed " << seed << ": not a spool::Error: " << e.what();
        }
      }
    }
  }
  // Eight flipped bytes almost always break a module; a module that stays
  // valid (a changed constant) may load, which is fine.
  EXPECT_GT(refused, cases * 3 / 4) << refused << " of " << cases << " refused";
}

TEST(SpirvValidation, RefusesTruncatedAndEmptyModules) {
  const auto& k = spool::kernels::builtin_glsl()[0];
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4}, std::size_t{5}, k.launch_spirv.size() / 2,
                        k.launch_spirv.size() - 1}) {
    EXPECT_THROW((void)spool::vulkan::reflect_kernel(k.launch_spirv.first(n), "cut"), spool::Error) << n << " words";
  }
}

TEST(SpirvValidation, DamagedModulesLoadedOnTheDeviceAreClearErrors) {
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "off";
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) GTEST_SKIP() << "no Vulkan device";
  auto dev = rt.open_default();
  const auto& saxpy = spool::kernels::builtin_glsl()[1];
  const std::uint64_t seed0 = base_seed() + 100000;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(i);
    const auto launch = mutate(saxpy.launch_spirv, seed, 8);
    try {
      (void)dev->load_spirv("mutant", launch);
    } catch (const spool::Error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("mutant"), std::string::npos) << "seed " << seed << ": " << e.what();
    }
  }
  EXPECT_GT(refused, 40);
  // The device still works.
  EXPECT_NO_THROW((void)dev->kernel("saxpy"));
}

}  // namespace
