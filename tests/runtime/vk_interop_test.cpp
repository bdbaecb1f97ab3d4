// Spool on an application's own Vulkan device (lavapipe in CI): borrowed
// device lifetime, interleaved app and Spool submissions on one queue, app
// buffers as arguments, app bodies built with spool_add_kernels(), an
// ABI-less SPIR-V module, and the errors for what cannot work.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "app_kernels.hpp"
#include "app_vulkan.hpp"
#include "spool/spool.hpp"
#include "spool/vulkan/interop.hpp"

namespace {

using spool::LaunchMode;

struct AppFixture : ::testing::Test {
  void SetUp() override {
    try {
      vk.emplace();
    } catch (const std::exception& e) {
      GTEST_SKIP() << "no Vulkan device: " << e.what();
    }
  }
  spool::vulkan::BorrowedDevice borrowed(spool::vulkan::QueueUse use = spool::vulkan::QueueUse::shared) {
    spool::vulkan::BorrowedDevice b;
    b.instance = vk->instance;
    b.physical_device = vk->physical;
    b.device = vk->device;
    b.queue = vk->queue;
    b.queue_family = vk->family;
    b.queue_use = use;
    b.queue_mutex = vk->queue_mutex;
    b.buffer_device_address_enabled = b.shader_int64_enabled = true;
    b.on_release = [this] { ++released; };
    return b;
  }
  static spool::DeviceOptions options() {
    spool::DeviceOptions o;
    o.calibrate = false;
    o.autotune = "off";
    return o;
  }
  spool::Buffer wrap(spool::Device& d, const app::Buffer& b, VkDeviceSize offset = 0) {
    return spool::vulkan::wrap_buffer(d, {b.buffer, b.size, offset, VK_WHOLE_SIZE, b.usage,
                                          b.data != nullptr ? reinterpret_cast<char*>(b.data) + offset : nullptr});
  }
  static spool::SubmitOptions forced(LaunchMode m) {
    spool::SubmitOptions o;
    o.force_mode = m;
    return o;
  }
  void TearDown() override {
    if (vk) {
      vk->finish();
      vk.reset();
    }
  }
  std::optional<app::Vulkan> vk;
  std::atomic<int> released{0};
};

spool::Batch axpb(const spool::Kernel& k, const spool::Buffer& x, const spool::Buffer& y, std::uint32_t n, float a,
                  float b, std::uint32_t slice = 64) {
  spool::Batch batch(k);
  for (std::uint32_t s = 0; s < n; s += slice) {
    const std::uint32_t len = std::min(slice, n - s);
    batch.add(len, {spool::arg(x, s * 4ull), spool::arg(y, s * 4ull), spool::arg(a), spool::arg(b), spool::arg(len)});
  }
  return batch;
}

using BorrowedVulkan = AppFixture;

TEST_F(BorrowedVulkan, AppBodyRunsInEveryModeOnAppBuffersWhenQueueIsDedicated) {
  constexpr std::uint32_t kN = 1000;
  app::Buffer x = vk->make_buffer(kN * 4), y = vk->make_buffer(kN * 4);
  for (std::uint32_t i = 0; i < kN; ++i) x.data[i] = float(i);
  {
    auto dev = spool::vulkan::open_device(borrowed(spool::vulkan::QueueUse::dedicated), options());
    auto k = dev->load(app_kernels::axpb());
    EXPECT_TRUE(k.has_persistent()) << k.persistent_unavailable_reason();
    ASSERT_EQ(k.args().size(), 5u);
    EXPECT_EQ(k.args()[0].name, "x");
    EXPECT_EQ(k.args()[0].kind, spool::ArgKind::buffer);
    EXPECT_EQ(k.args()[3].kind, spool::ArgKind::f32);
    auto xs = wrap(*dev, x), ys = wrap(*dev, y);
    for (LaunchMode m : {LaunchMode::launches, LaunchMode::recorded, LaunchMode::persistent}) {
      const float b = 1.0f + float(static_cast<int>(m));
      const auto v = dev->run(axpb(k, xs, ys, kN, 2.0f, b), forced(m));
      EXPECT_TRUE(v.ok()) << v.failure;
      EXPECT_EQ(v.mode, m);
      for (std::uint32_t i = 0; i < kN; ++i) ASSERT_FLOAT_EQ(y.data[i], 2.0f * float(i) + b) << "mode " << int(m);
    }
  }
  EXPECT_EQ(released.load(), 1);
  vk->destroy(x);
  vk->destroy(y);
}

TEST_F(BorrowedVulkan, InterleavedAppAndSpoolSubmissionsOnOneQueueSeeEachOthersWrites) {
  constexpr std::uint32_t kN = 4096;
  app::Buffer x = vk->make_buffer(kN * 4), y = vk->make_buffer(kN * 4);
  for (std::uint32_t i = 0; i < kN; ++i) x.data[i] = 1.0f, y.data[i] = 0.0f;
  app::ScalePipeline scale = vk->make_scale_pipeline(app::read_spirv(SPOOL_APP_SCALE_SPV));
  auto dev = spool::vulkan::open_device(borrowed(), options());
  auto k = dev->load(app_kernels::axpb());
  auto xs = wrap(*dev, x), ys = wrap(*dev, y);
  for (int round = 0; round < 3; ++round) {
    // app: x *= 3 (not waited) -> spool: y = x + 1 -> app: y *= 2 (waited)
    vk->scale(scale, x, kN, 3.0f);
    for (LaunchMode m : {LaunchMode::launches, LaunchMode::recorded}) {
      EXPECT_TRUE(dev->run(axpb(k, xs, ys, kN, 1.0f, 1.0f, 512), forced(m)).ok());
    }
    vk->scale(scale, y, kN, 2.0f);
    vk->finish();
    float xv = 1.0f;
    for (int r = 0; r <= round; ++r) xv *= 3.0f;
    for (std::uint32_t i = 0; i < kN; ++i) ASSERT_FLOAT_EQ(y.data[i], (xv + 1.0f) * 2.0f) << "round " << round;
  }
  vk->destroy(scale);
  vk->destroy(x);
  vk->destroy(y);
}

TEST_F(BorrowedVulkan, SharedQueueRefusesPersistentWithTheReasonAndAutoNeverPicksIt) {
  constexpr std::uint32_t kN = 256;
  app::Buffer x = vk->make_buffer(kN * 4), y = vk->make_buffer(kN * 4);
  auto dev = spool::vulkan::open_device(borrowed(), options());
  auto k = dev->load(app_kernels::axpb());
  auto xs = wrap(*dev, x), ys = wrap(*dev, y);
  try {
    dev->run(axpb(k, xs, ys, kN, 1.0f, 0.0f), forced(LaunchMode::persistent));
    FAIL() << "persistent ran on a shared queue";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
    EXPECT_NE(std::string(e.what()).find("shared with the application"), std::string::npos) << e.what();
  }
  for (int i = 0; i < 20; ++i) {
    const auto v = dev->run(axpb(k, xs, ys, kN, 1.0f, float(i), 1));
    EXPECT_NE(v.mode, LaunchMode::persistent);
    EXPECT_LT(v.predicted_ns[2], 0.0);  // unavailable, not merely expensive
  }
  vk->destroy(x);
  vk->destroy(y);
}

TEST_F(BorrowedVulkan, SpoolShutDownFirstLeavesAppObjectsUsable) {
  constexpr std::uint32_t kN = 128;
  app::Buffer x = vk->make_buffer(kN * 4);
  app::ScalePipeline scale = vk->make_scale_pipeline(app::read_spirv(SPOOL_APP_SCALE_SPV));
  spool::Kernel kept;
  {
    auto dev = spool::vulkan::open_device(borrowed(), options());
    kept = dev->load(app_kernels::axpb());
    auto xs = wrap(*dev, x);
    for (std::uint32_t i = 0; i < kN; ++i) x.data[i] = 1.0f;
    EXPECT_TRUE(dev->run(axpb(kept, xs, xs, kN, 2.0f, 0.0f)).ok());
  }
  // A Kernel handle still uses the device: not released yet.
  EXPECT_EQ(released.load(), 0);
  kept = spool::Kernel();
  EXPECT_EQ(released.load(), 1);
  // The app's device, queue, buffer and pipeline still work.
  vk->scale(scale, x, kN, 5.0f);
  vk->finish();
  for (std::uint32_t i = 0; i < kN; ++i) ASSERT_FLOAT_EQ(x.data[i], 10.0f);
  vk->destroy(scale);
  vk->destroy(x);
}

TEST_F(BorrowedVulkan, AppDestroysItsObjectsFirstAndSpoolShutsDownCleanly) {
  constexpr std::uint32_t kN = 128;
  auto dev = spool::vulkan::open_device(borrowed(), options());
  auto k = dev->load(app_kernels::axpb());
  {
    app::Buffer x = vk->make_buffer(kN * 4);
    app::ScalePipeline scale = vk->make_scale_pipeline(app::read_spirv(SPOOL_APP_SCALE_SPV));
    auto xs = wrap(*dev, x);
    EXPECT_TRUE(dev->run(axpb(k, xs, xs, kN, 1.0f, 1.0f)).ok());
    vk->scale(scale, x, kN, 2.0f);
    vk->finish();
    // The batch is done: the app frees its buffer and pipeline while Spool
    // (and a wrapper of the buffer) are still alive. Spool must not touch them.
    vk->destroy(scale);
    vk->destroy(x);
  }
  // Spool keeps working on its own buffers, then shuts down.
  auto own = dev->buffer(kN * 4);
  EXPECT_TRUE(dev->run(axpb(k, own, own, kN, 1.0f, 1.0f)).ok());
  EXPECT_FLOAT_EQ(own.as<float>()[5], 1.0f);
  k = spool::Kernel();
  own = spool::Buffer();
  dev.reset();
  EXPECT_EQ(released.load(), 1);
}

TEST_F(BorrowedVulkan, AbiLessModuleRunsInLaunchesAndRecordedAndExplainsPersistent) {
  constexpr std::uint32_t kN = 300, kOffset = 64;  // floats
  app::Buffer x = vk->make_buffer((kN + kOffset) * 4);
  for (std::uint32_t i = 0; i < kN + kOffset; ++i) x.data[i] = 1.0f;
  auto dev = spool::vulkan::open_device(borrowed(), options());
  auto k = dev->load_spirv_file("app_scale", SPOOL_APP_SCALE_SPV);
  ASSERT_EQ(k.args().size(), 3u);
  EXPECT_EQ(k.args()[0].name, "n");
  EXPECT_EQ(k.args()[1].kind, spool::ArgKind::f32);
  EXPECT_EQ(k.args()[2].kind, spool::ArgKind::bound_buffer);
  EXPECT_EQ(k.variant(), "wg=64");  // fixed by the module
  EXPECT_FALSE(k.has_persistent());
  EXPECT_NE(k.persistent_unavailable_reason().find("does not follow the Spool kernel ABI"), std::string::npos);
  auto whole = wrap(*dev, x);
  auto tail = wrap(*dev, x, kOffset * 4);  // a range of the app's buffer
  for (LaunchMode m : {LaunchMode::launches, LaunchMode::recorded}) {
    spool::Batch b(k);
    b.add(kN, {spool::arg(kN), spool::arg(2.0f), spool::arg(tail)});
    b.add(kOffset, {spool::arg(kOffset), spool::arg(3.0f), spool::arg(whole)});
    b.add(kOffset, {spool::arg(kOffset), spool::arg(3.0f), spool::arg(whole)});
    EXPECT_TRUE(dev->run(b, forced(m)).ok());
  }
  for (std::uint32_t i = 0; i < kOffset; ++i) ASSERT_FLOAT_EQ(x.data[i], 81.0f) << i;
  for (std::uint32_t i = kOffset; i < kN + kOffset; ++i) ASSERT_FLOAT_EQ(x.data[i], 4.0f) << i;
  // Spool's own buffers bind too.
  auto own = dev->buffer(kN * 4);
  std::fill_n(own.as<float>().data(), kN, 1.5f);
  spool::Batch b(k);
  b.add(kN, {spool::arg(kN), spool::arg(2.0f), spool::arg(own)});
  EXPECT_TRUE(dev->run(b, forced(LaunchMode::recorded)).ok());
  EXPECT_FLOAT_EQ(own.as<float>()[kN - 1], 3.0f);
  try {
    dev->run(b, forced(LaunchMode::persistent));
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
  }
  vk->destroy(x);
}

TEST_F(BorrowedVulkan, AbiLessModuleOnOwnedDeviceStatesWhyPersistentIsUnavailable) {
  auto dev = spool::vulkan::open_device(borrowed(spool::vulkan::QueueUse::dedicated), options());
  auto k = dev->load_spirv_file("app_scale", SPOOL_APP_SCALE_SPV);
  auto own = dev->buffer(64 * 4);
  spool::Batch b(k);
  b.add(64, {spool::arg(64u), spool::arg(2.0f), spool::arg(own)});
  try {
    dev->run(b, forced(LaunchMode::persistent));
    FAIL();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
    EXPECT_NE(std::string(e.what()).find("does not follow the Spool kernel ABI"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dev->run(b, forced(LaunchMode::launches)).ok());
}

TEST_F(BorrowedVulkan, BadHandlesAndUndeclaredFeaturesAreClearErrors) {
  auto expect_error = [&](spool::vulkan::BorrowedDevice b, const char* needle) {
    try {
      spool::vulkan::open_device(b, options());
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const spool::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto b = borrowed();
  b.device = VK_NULL_HANDLE;
  expect_error(b, "device is null");
  b = borrowed();
  b.queue = VK_NULL_HANDLE;
  expect_error(b, "queue is null");
  b = borrowed();
  b.buffer_device_address_enabled = false;
  expect_error(b, "bufferDeviceAddress");
  b = borrowed();
  b.queue_family = 99;
  expect_error(b, "queue family 99");
  EXPECT_EQ(released.load(), 0);  // nothing was opened, nothing released
}

TEST_F(BorrowedVulkan, BadBufferWrapsAndMisusedBuffersAreClearErrors) {
  auto dev = spool::vulkan::open_device(borrowed(), options());
  app::Buffer x = vk->make_buffer(256);
  app::Buffer storage_only = vk->make_buffer(256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
  app::Buffer address_only = vk->make_buffer(256, VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT);
  auto throws_with = [](auto&& fn, const char* needle) {
    try {
      fn();
      ADD_FAILURE() << "no error for: " << needle;
    } catch (const spool::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  throws_with([&] { spool::vulkan::wrap_buffer(*dev, {x.buffer, 256, 256, VK_WHOLE_SIZE, x.usage, nullptr}); },
              "offset 256");
  throws_with([&] { spool::vulkan::wrap_buffer(*dev, {x.buffer, 256, 128, 200, x.usage, nullptr}); }, "range 200");
  throws_with([&] { spool::vulkan::wrap_buffer(*dev, {x.buffer, 256, 0, VK_WHOLE_SIZE, 0, nullptr}); },
              "no kernel could use it");
  throws_with([&] { spool::vulkan::wrap_buffer(*dev, {x.buffer, 1 << 20, 0, VK_WHOLE_SIZE, x.usage, nullptr}); },
              "memory requirement");
  throws_with([&] { spool::vulkan::wrap_buffer(*dev, {VK_NULL_HANDLE, 256, 0, VK_WHOLE_SIZE, x.usage, nullptr}); },
              "null");
  // A buffer without a device address cannot be a buffer-reference argument.
  auto k = dev->load(app_kernels::axpb());
  auto so = wrap(*dev, storage_only), xs = wrap(*dev, x);
  spool::Batch b(k);
  throws_with([&] { b.add(4, {spool::arg(so), spool::arg(xs), spool::arg(1.0f), spool::arg(1.0f), spool::arg(4u)}); },
              "without a device address");
  // A buffer without storage usage cannot be bound to a descriptor.
  auto plain = dev->load_spirv_file("app_scale", SPOOL_APP_SCALE_SPV);
  auto ao = wrap(*dev, address_only);
  spool::Batch pb(plain);
  pb.add(4, {spool::arg(4u), spool::arg(2.0f), spool::arg(ao)});
  throws_with([&] { dev->run(pb, forced(LaunchMode::launches)); }, "VK_BUFFER_USAGE_STORAGE_BUFFER_BIT");
  vk->destroy(x);
  vk->destroy(storage_only);
  vk->destroy(address_only);
}

TEST_F(BorrowedVulkan, ProfileOfTheSameDeviceIsServedFromTheStore) {
  const std::string db = testing::TempDir() + "/interop_profile.db";
  std::remove(db.c_str());
  spool::RuntimeOptions ro;
  ro.device_options.autotune_db = db;  // calibrate unset: auto, measured once and stored
  ro.device_options.autotune = "off";
  {
    auto rt = spool::make_runtime(ro);
    auto own = rt.open_default();
    EXPECT_EQ(own->profile().source, "calibrated");
  }
  spool::DeviceOptions o;
  o.autotune_db = db;
  o.autotune = "off";  // calibrate unset: SPOOL_CALIBRATE=auto, served from the store
  const std::string telemetry = testing::TempDir() + "/interop_telemetry.jsonl";
  std::remove(telemetry.c_str());
  o.telemetry_path = telemetry;
  {
    auto dev = spool::vulkan::open_device(borrowed(), o);
    // Found under the same device + driver (+ placement) key, and checked
    // before use: kept ("store") or, if the quick check disagreed on this
    // loaded machine, measured again; either way the check says so.
    EXPECT_FALSE(dev->profile().validation.empty()) << "the stored profile was not found";
    EXPECT_TRUE(dev->profile().source == "store" ||
                dev->profile().validation.find("disagreed") != std::string::npos)
        << dev->profile().source << ": " << dev->profile().validation;
    EXPECT_GT(dev->profile().launch_ns, 0.0);
    auto own = dev->buffer(64 * 4);
    auto k = dev->load(app_kernels::axpb());
    EXPECT_TRUE(dev->run(axpb(k, own, own, 64, 1.0f, 1.0f, 16)).ok());
  }
  std::ifstream t(telemetry);
  std::string line;
  ASSERT_TRUE(std::getline(t, line)) << "no telemetry written";
  EXPECT_NE(line.find("\"kernel\":\"axpb\""), std::string::npos) << line;
  std::remove(db.c_str());
}

TEST_F(BorrowedVulkan, AppPipelineCacheIsUsedAndLeftToTheApp) {
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  VkPipelineCache cache = VK_NULL_HANDLE;
  ASSERT_EQ(vkCreatePipelineCache(vk->device, &ci, nullptr, &cache), VK_SUCCESS);
  auto b = borrowed();
  b.pipeline_cache = cache;
  {
    auto dev = spool::vulkan::open_device(b, options());
    auto own = dev->buffer(64 * 4);
    auto k = dev->load(app_kernels::axpb());
    EXPECT_TRUE(dev->run(axpb(k, own, own, 64, 1.0f, 2.0f, 16)).ok());
    EXPECT_FLOAT_EQ(own.as<float>()[63], 2.0f);
  }
  // Still the app's: it can read and destroy it (a double destroy would crash).
  std::size_t size = 0;
  EXPECT_EQ(vkGetPipelineCacheData(vk->device, cache, &size, nullptr), VK_SUCCESS);
  vkDestroyPipelineCache(vk->device, cache, nullptr);
}

}  // namespace
