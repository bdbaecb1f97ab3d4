// Validation mode on lavapipe: a kernel that writes past a too-small buffer
// (64 floats, n = 4096) fails its batch's verdict, naming the kernel and the
// argument, in every launch mode; the neighbouring buffer and the process
// heap are untouched (the writes land in guard space), and the next
// in-bounds batch is clean.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spool/spool.hpp"

namespace {

constexpr std::uint32_t kN = 4096;   // what the kernel is told
constexpr std::uint32_t kSmall = 64; // floats y really has

std::shared_ptr<spool::Device> open_validating() {
  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "off";
  o.device_options.validate = true;
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return nullptr;
  return rt.open_default();
}

class Validation : public ::testing::TestWithParam<spool::LaunchMode> {};

TEST_P(Validation, OutOfBoundsWriteFailsTheVerdictNamingKernelAndArgument) {
  auto dev = open_validating();
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  spool::Kernel k = dev->kernel("saxpy");
  spool::Buffer x = dev->buffer(kN * 4);
  spool::Buffer y = dev->buffer(kSmall * 4);
  spool::Buffer neighbour = dev->buffer(kN * 4);
  for (float& f : x.as<float>()) f = 1.0f;
  for (float& f : y.as<float>()) f = 2.0f;
  for (float& f : neighbour.as<float>()) f = 7.0f;

  spool::Batch bad(k);
  bad.add(kN, {spool::arg(x), spool::arg(y), spool::arg(3.0f), spool::arg(kN)});
  spool::SubmitOptions so;
  so.force_mode = GetParam();
  const spool::Verdict v = dev->run(std::move(bad), so);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.failure.find("validation: kernel 'saxpy'"), std::string::npos) << v.failure;
  EXPECT_NE(v.failure.find("wrote outside argument 'y' (a buffer of 256 bytes)"), std::string::npos) << v.failure;
  EXPECT_NE(v.failure.find("16128 guard bytes after its end changed"), std::string::npos) << v.failure;
  EXPECT_EQ(v.failure.find("'x'"), std::string::npos) << "x was only read: " << v.failure;
  // In bounds, the kernel did its work; nothing reached the neighbour.
  for (float f : y.as<float>()) ASSERT_EQ(f, 5.0f);
  for (float f : neighbour.as<float>()) ASSERT_EQ(f, 7.0f);

  // The guards were restored: a correct batch on the same buffers is clean.
  spool::Batch good(k);
  good.add(kSmall, {spool::arg(x), spool::arg(y), spool::arg(1.0f), spool::arg(kSmall)});
  const spool::Verdict ok = dev->run(std::move(good), so);
  EXPECT_TRUE(ok.ok()) << ok.failure;
  for (float f : y.as<float>()) ASSERT_EQ(f, 6.0f);
}

INSTANTIATE_TEST_SUITE_P(EveryMode, Validation,
                         ::testing::Values(spool::LaunchMode::launches, spool::LaunchMode::recorded,
                                           spool::LaunchMode::persistent),
                         [](const auto& p) { return std::string(spool::policy::to_string(p.param)); });

TEST(ValidationMode, NamesEveryArgumentThatPassesTheDamagedBuffer) {
  auto dev = open_validating();
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  spool::Buffer small = dev->buffer(kSmall * 4);
  spool::Batch b(dev->kernel("saxpy"));
  b.add(kN, {spool::arg(small), spool::arg(small), spool::arg(1.0f), spool::arg(kN)});
  const spool::Verdict v = dev->run(std::move(b));
  EXPECT_NE(v.failure.find("wrote outside arguments 'x', 'y'"), std::string::npos) << v.failure;
}

TEST(ValidationMode, DeviceLocalBuffersAreGuardedToo) {
  auto dev = open_validating();
  if (!dev) GTEST_SKIP() << "no Vulkan device";
  spool::Buffer x = dev->buffer(kN * 4);
  for (float& f : x.as<float>()) f = 1.0f;
  spool::Buffer y = dev->buffer(kSmall * 4, spool::Memory::device_local);
  EXPECT_EQ(y.data(), nullptr);  // still no host pointer for the application
  spool::Batch b(dev->kernel("saxpy"));
  b.add(kN, {spool::arg(x), spool::arg(y), spool::arg(1.0f), spool::arg(kN)});
  const spool::Verdict v = dev->run(std::move(b));
  EXPECT_NE(v.failure.find("wrote outside argument 'y'"), std::string::npos) << v.failure;
}

}  // namespace
