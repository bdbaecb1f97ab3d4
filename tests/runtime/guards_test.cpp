// Guard bytes of validation mode on plain host memory: layout, detection on
// both sides, the edge flag, restoring.
#include <gtest/gtest.h>

#include <vector>

#include "spool/backend/guards.hpp"

namespace {

using namespace spool::backend;

struct Guarded {
  GuardLayout layout;
  std::vector<std::byte> mem;
  std::uint64_t bytes;
  explicit Guarded(std::uint64_t n) : layout(guard_layout(n)), mem(layout.front + n + layout.back), bytes(n) {
    fill_guard(mem.data(), layout.front);
    fill_guard(payload() + n, layout.back);
  }
  std::byte* payload() { return mem.data() + layout.front; }
};

TEST(Guards, LayoutCoversTheTypicalOverrun) {
  EXPECT_EQ(guard_layout(256).front, 4096u);
  EXPECT_EQ(guard_layout(256).back, 64u * 1024);               // at least 64 KiB
  EXPECT_EQ(guard_layout(1u << 20).back, 1u << 20);           // as large as the buffer
  EXPECT_EQ(guard_layout(100000).back, 102400u);               // rounded up to 4 KiB
  EXPECT_EQ(guard_layout(1ull << 30).back, 16u * 1024 * 1024); // capped
}

TEST(Guards, ReportNothingWhenOnlyThePayloadIsWritten) {
  Guarded g(256);
  for (std::uint64_t i = 0; i < 256; ++i) g.payload()[i] = std::byte{0};
  EXPECT_FALSE(check_and_restore_guards(g.payload(), g.bytes, g.layout).any());
}

TEST(Guards, ReportWritesAfterTheEndAndRestoreThem) {
  Guarded g(256);
  // 64 floats, written as if there were 4096: bytes [256, 16384).
  for (std::uint64_t i = 256; i < 16384; ++i) g.payload()[i] = std::byte{0};
  const GuardDamage d = check_and_restore_guards(g.payload(), g.bytes, g.layout);
  EXPECT_EQ(d.bytes_after, 16384u - 256);
  EXPECT_EQ(d.bytes_before, 0u);
  EXPECT_EQ(d.first, 256);
  EXPECT_EQ(d.last, 16383);
  EXPECT_FALSE(d.reached_edge);
  EXPECT_FALSE(check_and_restore_guards(g.payload(), g.bytes, g.layout).any()) << "not restored";
}

TEST(Guards, ReportWritesBeforeTheStartAndAtTheEdge) {
  Guarded g(64);
  g.payload()[-1] = std::byte{1};
  g.payload()[g.bytes + g.layout.back - 1] = std::byte{1};
  const GuardDamage d = check_and_restore_guards(g.payload(), g.bytes, g.layout);
  EXPECT_EQ(d.bytes_before, 1u);
  EXPECT_EQ(d.bytes_after, 1u);
  EXPECT_EQ(d.first, -1);
  EXPECT_EQ(d.last, static_cast<std::int64_t>(g.bytes + g.layout.back - 1));
  EXPECT_TRUE(d.reached_edge);
}

}  // namespace
