#include "spool/batch.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "mock_backend.hpp"
#include "spool/buffer.hpp"
#include "spool/error.hpp"

namespace {

spool::Kernel axpy() {
  spool::test::MockDevice d;
  return spool::Kernel(d.load_builtin("axpy", {}));
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    return e.what();
  }
  ADD_FAILURE() << "no spool::Error thrown";
  return {};
}

TEST(Batch, PacksArgumentsAtReflectedOffsets) {
  spool::Buffer x(std::make_shared<spool::test::MockBuffer>(64));
  spool::Buffer y(std::make_shared<spool::test::MockBuffer>(64));
  spool::Batch b(axpy());
  b.add(10, {spool::arg(x, 8), spool::arg(y), spool::arg(1.5f), spool::arg(7u)});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.grid(0), 10u);
  const std::byte* p = b.packed_args(0);
  std::uint64_t ax = 0, ay = 0;
  float a = 0;
  std::uint32_t n = 0;
  std::memcpy(&ax, p, 8);
  std::memcpy(&ay, p + 8, 8);
  std::memcpy(&a, p + 16, 4);
  std::memcpy(&n, p + 20, 4);
  EXPECT_EQ(ax, x.device_address() + 8);
  EXPECT_EQ(ay, y.device_address());
  EXPECT_EQ(a, 1.5f);
  EXPECT_EQ(n, 7u);
}

TEST(Batch, RejectsWrongArgumentCount) {
  spool::Batch b(axpy());
  const auto m = message_of([&] { b.add(1, {spool::arg(1u)}); });
  EXPECT_NE(m.find("expected 4 arguments, got 1"), std::string::npos) << m;
  EXPECT_EQ(b.size(), 0u);
}

TEST(Batch, RejectsScalarWhereBufferExpected) {
  spool::Buffer y(std::make_shared<spool::test::MockBuffer>(64));
  spool::Batch b(axpy());
  const auto m = message_of([&] { b.add(1, {spool::arg(3u), spool::arg(y), spool::arg(1.0f), spool::arg(1u)}); });
  EXPECT_NE(m.find("argument 0 ('x') must be buffer, got u32"), std::string::npos) << m;
}

TEST(Batch, RejectsFloatWhereUintExpected) {
  spool::Buffer x(std::make_shared<spool::test::MockBuffer>(64));
  spool::Batch b(axpy());
  const auto m = message_of([&] { b.add(1, {spool::arg(x), spool::arg(x), spool::arg(1.0f), spool::arg(1.0f)}); });
  EXPECT_NE(m.find("('n') must be u32, got f32"), std::string::npos) << m;
}

TEST(Batch, RejectsEmptyBufferAndOffsetPastEnd) {
  spool::Buffer x(std::make_shared<spool::test::MockBuffer>(64));
  spool::Buffer empty;
  spool::Batch b(axpy());
  auto m = message_of([&] { b.add(1, {spool::arg(empty), spool::arg(x), spool::arg(1.0f), spool::arg(1u)}); });
  EXPECT_NE(m.find("empty buffer"), std::string::npos) << m;
  m = message_of([&] { b.add(1, {spool::arg(x, 64), spool::arg(x), spool::arg(1.0f), spool::arg(1u)}); });
  EXPECT_NE(m.find("past the buffer"), std::string::npos) << m;
}

TEST(Batch, RejectsZeroGrid) {
  spool::Buffer x(std::make_shared<spool::test::MockBuffer>(64));
  spool::Batch b(axpy());
  const auto m = message_of([&] { b.add(0, {spool::arg(x), spool::arg(x), spool::arg(1.0f), spool::arg(1u)}); });
  EXPECT_NE(m.find("grid must be at least 1"), std::string::npos) << m;
}

TEST(Batch, RejectsEmptyKernel) {
  EXPECT_THROW(spool::Batch(spool::Kernel{}), spool::Error);
}

}  // namespace
