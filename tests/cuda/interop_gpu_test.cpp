// GPU tests of CUDA interop: a borrowed application stream, application
// memory and application kernels (samples/cuda_interop's and the tests'
// own). Every test skips, saying why, when no CUDA device is found.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

#include "scoped_env.hpp"
#include "app.hpp"  // samples/cuda_interop
#include "spool/cuda/backend.hpp"
#include "spool/cuda/interop.hpp"
#include "spool/spool.hpp"
#include "test_app_kernels.hpp"

namespace {

using spool::LaunchMode;
using spool::arg;

const LaunchMode kModes[] = {LaunchMode::launches, LaunchMode::recorded, LaunchMode::persistent};

#define CU_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

// The application's memory (Spool never frees it).
struct DevMem {
  float* p = nullptr;
  std::size_t n = 0;
  explicit DevMem(std::size_t count) : n(count) {
    if (cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(float)) != cudaSuccess) p = nullptr;
  }
  ~DevMem() { cudaFree(p); }
  DevMem(const DevMem&) = delete;
  DevMem& operator=(const DevMem&) = delete;
  std::vector<float> read(cudaStream_t s) const {
    std::vector<float> h(n);
    cudaMemcpyAsync(h.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost, s);
    cudaStreamSynchronize(s);
    return h;
  }
};

struct Interop : ::testing::Test {
  spool::test::ScopedEnv env;  // restored after each test
  cudaStream_t stream = nullptr;
  void SetUp() override {
    std::string why;
    if (spool::cuda::make_backend()->enumerate(&why).empty()) GTEST_SKIP() << "no CUDA device: " << why;
    env.set("SPOOL_QUEUE_SLOTS", "64");
    CU_OK(cudaSetDevice(0));
    CU_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  }
  void TearDown() override {
    if (stream != nullptr) cudaStreamDestroy(stream);
  }
  static spool::DeviceOptions options() {
    spool::DeviceOptions o;
    o.calibrate = false;
    o.autotune = "off";
    return o;
  }
  std::shared_ptr<spool::Device> open() { return spool::cuda::open_device({0, stream}, options()); }
};

spool::Verdict run_axpy(spool::Device& dev, const spool::Kernel& k, const spool::Buffer& x, const spool::Buffer& y,
                        std::uint32_t n, std::uint32_t items, float a, LaunchMode m) {
  spool::Batch b(k, spool::Ordering::sequential);
  for (std::uint32_t i = 0; i < items; ++i) b.add(n, {arg(x), arg(y), arg(a), arg(n)});
  return dev.run(std::move(b), {m});
}

// App kernel writes x (slowly), Spool reads x and writes y, app kernel reads
// y: all on one stream, no host synchronisation in between.
TEST_F(Interop, AppAndSpoolWorkInterleavedOnOneStreamIsOrderedInEveryMode) {
  constexpr std::uint32_t n = 1u << 14, items = 6, rounds = 3;
  constexpr float a = 0.25f;
  DevMem x(n), y(n), z(n);
  ASSERT_NE(z.p, nullptr);
  CU_OK(cudaMemsetAsync(z.p, 0, n * sizeof(float), stream));
  auto dev = open();
  const auto bx = spool::cuda::wrap_device_pointer(*dev, x.p, n * sizeof(float));
  const auto by = spool::cuda::wrap_device_pointer(*dev, y.p, n * sizeof(float));
  const auto k = spool::cuda::load_kernel(*dev, app::axpy_kernel());
  std::vector<double> ref(n, 0.0);
  float base = 1.0f;
  for (LaunchMode m : kModes) {
    for (std::uint32_t r = 0; r < rounds; ++r, base += 1.0f) {
      CU_OK(app::fill_ramp(x.p, base, n, 1000000, stream));  // ~0.5 ms of delay before x is written
      CU_OK(cudaMemsetAsync(y.p, 0, n * sizeof(float), stream));
      const auto v = run_axpy(*dev, k, bx, by, n, items, a, m);
      EXPECT_TRUE(v.ok()) << v.failure;
      EXPECT_EQ(v.mode, m);
      EXPECT_EQ(v.items_run, items);
      CU_OK(app::add_into(z.p, y.p, n, stream));
      for (std::uint32_t i = 0; i < n; ++i) ref[i] += double(items) * a * (base + double(i));
    }
    const auto h = z.read(stream);
    for (std::uint32_t i = 0; i < n; ++i) {
      ASSERT_NEAR(h[i], ref[i], 1e-3 * ref[i] + 1e-3) << spool::policy::to_string(m) << " element " << i;
    }
  }
}

TEST_F(Interop, SpoolDestroyedBeforeTheAppStreamLeavesTheStreamToTheApp) {
  constexpr std::uint32_t n = 4096;
  DevMem x(n), y(n);
  CU_OK(app::fill_ramp(x.p, 0.0f, n, 0, stream));
  CU_OK(cudaMemsetAsync(y.p, 0, n * sizeof(float), stream));
  for (LaunchMode m : kModes) {
    auto dev = open();
    const auto k = spool::cuda::load_kernel(*dev, app::axpy_kernel());
    const auto v = run_axpy(*dev, k, spool::cuda::wrap_device_pointer(*dev, x.p, n * 4),
                            spool::cuda::wrap_device_pointer(*dev, y.p, n * 4), n, 1, 1.0f, m);
    EXPECT_TRUE(v.ok()) << v.failure;
    dev.reset();  // Spool first
    int d = -1;
    CU_OK(cudaStreamGetDevice(stream, &d));  // still a valid stream: Spool did not destroy it
    CU_OK(app::add_into(y.p, x.p, n, stream));
    CU_OK(cudaStreamSynchronize(stream));
  }
  const auto h = y.read(stream);
  for (std::uint32_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(h[i], 6.0f * float(i)) << i;  // 3 x (axpy + add_into)
}

TEST_F(Interop, AppStreamDestroyedBeforeTheDeviceIsSafeWhenTheDeviceIsNotUsedInBetween) {
  constexpr std::uint32_t n = 1024;
  DevMem x(n), y(n);
  auto dev = open();
  const auto k = spool::cuda::load_kernel(*dev, app::axpy_kernel());
  const auto bx = spool::cuda::wrap_device_pointer(*dev, x.p, n * 4), by = spool::cuda::wrap_device_pointer(*dev, y.p, n * 4);
  for (LaunchMode m : kModes) EXPECT_TRUE(run_axpy(*dev, k, bx, by, n, 2, 1.0f, m).ok());  // persistent stays resident
  CU_OK(cudaStreamDestroy(stream));
  stream = nullptr;
  dev.reset();
  CU_OK(cudaDeviceSynchronize());  // the context is healthy
  CU_OK(cudaGetLastError());
}

TEST_F(Interop, AppPointersAreArgumentsOfBuiltinAndAppKernelsWithOffsetsAndItems) {
  constexpr std::uint32_t n = 512, items = 5;
  auto dev = open();
  DevMem x(2 * n), y(2 * n);
  CU_OK(app::fill_ramp(x.p, 0.0f, 2 * n, 0, stream));
  CU_OK(cudaMemsetAsync(y.p, 0, 2 * n * sizeof(float), stream));
  std::uint32_t* out = nullptr;
  CU_OK(cudaMalloc(reinterpret_cast<void**>(&out), items * n * 4));
  const auto bx = spool::cuda::wrap_device_pointer(*dev, x.p, 2 * n * 4);
  const auto by = spool::cuda::wrap_device_pointer(*dev, y.p, 2 * n * 4);
  const auto bo = spool::cuda::wrap_device_pointer(*dev, out, items * n * 4);
  const auto saxpy = dev->kernel("saxpy");
  const auto tag = spool::cuda::load_kernel(*dev, test_app::tag_kernel());
  for (LaunchMode m : kModes) {
    spool::Batch s(saxpy);  // the upper halves: y[n + i] += 2 x[n + i]
    s.add(n, {arg(bx, n * 4), arg(by, n * 4), arg(2.0f), arg(n)});
    EXPECT_TRUE(dev->run(std::move(s), {m}).ok());
    CU_OK(cudaMemsetAsync(out, 0, items * n * 4, stream));
    spool::Batch t(tag);
    for (std::uint32_t i = 0; i < items; ++i) t.add(n, {arg(bo), arg(n)});
    EXPECT_EQ(dev->run(std::move(t), {m}).items_run, items);
    std::vector<std::uint32_t> h(items * n);
    CU_OK(cudaMemcpyAsync(h.data(), out, h.size() * 4, cudaMemcpyDeviceToHost, stream));
    CU_OK(cudaStreamSynchronize(stream));
    for (std::uint32_t i = 0; i < items * n; ++i) ASSERT_EQ(h[i], i / n + 1) << spool::policy::to_string(m) << " " << i;
  }
  const auto hy = y.read(stream);
  for (std::uint32_t i = 0; i < n; ++i) {
    ASSERT_EQ(hy[i], 0.0f) << i;
    ASSERT_FLOAT_EQ(hy[n + i], 3.0f * 2.0f * float(n + i)) << i;
  }
  cudaFree(out);
}

TEST_F(Interop, WrapChecksRealAllocations) {
  auto dev = open();
  void* d = nullptr;
  CU_OK(cudaMalloc(&d, 1024));
  auto* c = static_cast<char*>(d);
  EXPECT_NO_THROW(spool::cuda::wrap_device_pointer(*dev, d, 1024));
  EXPECT_NO_THROW(spool::cuda::wrap_device_pointer(*dev, c + 256, 768));
  auto message = [&](void* p, std::uint64_t bytes, void* host = nullptr) {
    try {
      spool::cuda::wrap_device_pointer(*dev, p, bytes, host);
    } catch (const spool::Error& e) {
      EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message(d, 1025).find("run past the end of their allocation"), std::string::npos);
  EXPECT_NE(message(c + 256, 769).find("1 bytes too many"), std::string::npos);
  EXPECT_NE(message(nullptr, 16).find("null"), std::string::npos);
  std::vector<float> pageable(16);
  EXPECT_NE(message(pageable.data(), 64).find("unregistered"), std::string::npos);
  EXPECT_NE(message(d, 16, pageable.data()).find("not the host view"), std::string::npos);
  float* managed = nullptr;
  CU_OK(cudaMallocManaged(reinterpret_cast<void**>(&managed), 64 * sizeof(float)));
  const auto mb = spool::cuda::wrap_device_pointer(*dev, managed, 64 * sizeof(float), managed);
  EXPECT_EQ(mb.as<float>().size(), 64u);
  void* pinned = nullptr;
  CU_OK(cudaHostAlloc(&pinned, 256, cudaHostAllocMapped));
  void* pinned_dev = nullptr;
  CU_OK(cudaHostGetDevicePointer(&pinned_dev, pinned, 0));
  EXPECT_NO_THROW(spool::cuda::wrap_device_pointer(*dev, pinned_dev, 256, pinned));
  cudaFreeHost(pinned);
  cudaFree(managed);
  cudaFree(d);
}

TEST_F(Interop, KeepAliveFreesTheMemoryAfterTheLastBatch) {
  auto dev = open();
  void* d = nullptr;
  CU_OK(cudaMalloc(&d, 4096));
  auto freed = std::make_shared<bool>(false);
  {
    std::shared_ptr<void> owner(d, [freed](void* p) {
      cudaFree(p);
      *freed = true;
    });
    const auto b = spool::cuda::wrap_device_pointer(*dev, d, 4096, nullptr, owner);
    owner.reset();
    EXPECT_FALSE(*freed);  // the buffer holds it
    spool::Batch t(spool::cuda::load_kernel(*dev, test_app::tag_kernel()));
    t.add(1024, {arg(b), arg(1024u)});
    EXPECT_TRUE(dev->run(std::move(t)).ok());
  }
  // A resident persistent kernel defers the release (cudaFree would wait
  // for it); once parked, nothing holds it back.
  dev->impl().park_persistent();
  EXPECT_TRUE(*freed);
}

TEST_F(Interop, AppKernelArgumentErrorsAndPersistentReasonOnADevice) {
  auto dev = open();
  const auto mixed = spool::cuda::load_kernel(*dev, test_app::mixed_kernel());
  DevMem p(64);
  const auto bp = spool::cuda::wrap_device_pointer(*dev, p.p, 64 * 4);
  spool::Batch b(mixed);
  EXPECT_THROW(b.add(64, {arg(bp), arg(64u), arg(1.0f)}), spool::Error);
  EXPECT_THROW(b.add(64, {arg(1u), arg(bp), arg(64u), arg(1.0f)}), spool::Error);  // k is i32
  b.add(64, {arg(std::int32_t{2}), arg(bp), arg(64u), arg(0.5f)});
  EXPECT_TRUE(dev->run(std::move(b)).ok());
  const auto h = p.read(stream);
  EXPECT_FLOAT_EQ(h[10], 2.0f + 0.5f * 64.0f);

  const auto wide = spool::cuda::load_kernel(*dev, test_app::wide_kernel());
  EXPECT_FALSE(wide.has_persistent());
  auto wide_batch = [&] {
    spool::Batch w(wide);
    std::vector<spool::ArgValue> v(12, arg(bp));
    v.push_back(arg(64u));
    v.push_back(arg(1.0f));
    w.add(64, v);
    return w;
  };
  try {
    dev->run(wide_batch(), {LaunchMode::persistent});
    ADD_FAILURE() << "persistent accepted for a kernel without a persistent variant";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::not_supported);
    EXPECT_NE(std::string(e.what()).find("104 bytes"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dev->run(wide_batch(), {LaunchMode::launches}).ok());
  EXPECT_TRUE(dev->run(wide_batch(), {LaunchMode::recorded}).ok());
}

TEST_F(Interop, OneKernelPerDescriptorAndUniqueNames) {
  auto dev = open();
  const auto a = spool::cuda::load_kernel(*dev, test_app::tag_kernel());
  const auto b = spool::cuda::load_kernel(*dev, test_app::tag_kernel());
  EXPECT_EQ(a.impl(), b.impl());
  const auto c = spool::cuda::load_kernel(*dev, test_app::tag_kernel(), {128, {}});
  EXPECT_NE(a.impl(), c.impl());
  EXPECT_EQ(c.variant(), "wg=128");
  spool::cuda::AppKernelDesc impostor = test_app::mixed_kernel();
  impostor.name = "test.tag";
  EXPECT_THROW(spool::cuda::load_kernel(*dev, impostor), spool::Error);
  EXPECT_THROW(spool::cuda::load_kernel(*dev, test_app::tag_kernel(), {48, {}}), spool::Error);  // not a multiple of 32
}

struct Sink final : spool::TelemetrySink {
  std::mutex mu;
  std::vector<spool::Verdict> v;
  void on_verdict(const spool::Verdict& x) override {
    std::lock_guard g(mu);
    v.push_back(x);
  }
};

TEST_F(Interop, VerdictsOfAppKernelsOnABorrowedStream) {
  auto dev = open();
  auto sink = std::make_shared<Sink>();
  dev->add_telemetry_sink(sink);
  DevMem x(256), y(256);
  const auto k = spool::cuda::load_kernel(*dev, app::axpy_kernel());
  const auto bx = spool::cuda::wrap_device_pointer(*dev, x.p, 1024), by = spool::cuda::wrap_device_pointer(*dev, y.p, 1024);
  for (LaunchMode m : kModes) run_axpy(*dev, k, bx, by, 256, 4, 1.0f, m);
  ASSERT_EQ(sink->v.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink->v[i].kernel, "app.axpy");
    EXPECT_EQ(sink->v[i].backend, "cuda");
    EXPECT_EQ(sink->v[i].mode, kModes[i]);
    EXPECT_TRUE(sink->v[i].forced);
    EXPECT_EQ(sink->v[i].items_run, 4u);
    EXPECT_GT(sink->v[i].measured_ns, 0.0);
  }
}

TEST_F(Interop, IdentityAndStoredProfileAreTheOwnedDevices) {
  char tmpl[] = "/tmp/spool_cuda_interop_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string db = std::string(tmpl) + "/autotune.db";
  spool::RuntimeOptions ro;
  ro.device_options.autotune_db = db;
  env.set("SPOOL_CALIBRATE", "auto");
  auto rt = spool::make_runtime(ro);
  std::shared_ptr<spool::Device> owned;
  for (std::size_t i = 0; i < rt.devices().size(); ++i) {
    if (rt.devices()[i].info.backend == spool::BackendKind::cuda) {
      owned = rt.open(i);
      break;
    }
  }
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(owned->profile().source, "calibrated");
  spool::DeviceOptions o;
  o.autotune_db = db;
  auto borrowed = spool::cuda::open_device({0, stream}, o);
  EXPECT_EQ(borrowed->impl().identity(), owned->impl().identity());
  EXPECT_EQ(borrowed->profile().source, "store");
}

TEST_F(Interop, AppKernelOnAnOwnedDeviceInEveryMode) {
  auto be = spool::cuda::make_backend();
  std::string why;
  ASSERT_FALSE(be->enumerate(&why).empty()) << why;
  auto dev = std::make_shared<spool::Device>(be->open(0), options());
  constexpr std::uint32_t n = 300, items = 7;
  const auto k = spool::cuda::load_kernel(*dev, test_app::tag_kernel());
  for (LaunchMode m : kModes) {
    auto out = dev->buffer(items * n * 4);  // host visible
    std::memset(out.data(), 0, items * n * 4);
    spool::Batch b(k);
    for (std::uint32_t i = 0; i < items; ++i) b.add(n, {arg(out), arg(n)});
    EXPECT_TRUE(dev->run(std::move(b), {m}).ok());
    const auto h = out.as<std::uint32_t>();
    for (std::uint32_t i = 0; i < items * n; ++i) ASSERT_EQ(h[i], i / n + 1) << spool::policy::to_string(m) << " " << i;
  }
}

}  // namespace
