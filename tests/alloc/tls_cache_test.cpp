// Box 1: the thread-local lists and the O(1) class lookup from a pointer.
#include "spool/alloc/detail/tls_cache.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "spool/alloc/alloc.hpp"

namespace {

namespace d = spool::alloc::detail;

TEST(TlsCache, FreeThenAllocReturnsTheSameBlockWhenListIsNonEmpty) {
  void* a = spool::alloc::allocate(40);
  void* keep = spool::alloc::allocate(40);  // keeps the list set up
  spool::alloc::deallocate(a);
  void* b = spool::alloc::allocate(40);
  EXPECT_EQ(a, b);  // LIFO
  spool::alloc::deallocate(b);
  spool::alloc::deallocate(keep);
}

TEST(TlsCache, ClassIsFoundFromThePointerAlone) {
  for (std::size_t size : {1u, 16u, 17u, 100u, 1024u, 1025u, 5000u, 65536u, 65537u, 1u << 20}) {
    void* p = spool::alloc::allocate(size);
    EXPECT_EQ(d::segment_class(p), spool::alloc::class_of(size)) << size;
    EXPECT_EQ(spool::alloc::usable_size(p), spool::alloc::class_size(spool::alloc::class_of(size)));
    spool::alloc::deallocate(p);
  }
}

TEST(TlsCache, LargeBlocksCarryTheLargeClassByte) {
  void* p = spool::alloc::allocate((1 << 20) + 1);
  EXPECT_EQ(d::segment_class(p), spool::alloc::kLargeClass);
  EXPECT_GE(spool::alloc::usable_size(p), (std::size_t{1} << 20) + 1);
  spool::alloc::deallocate(p);
}

TEST(TlsCache, PopReturnsNullWhenListIsEmpty) {
  spool::alloc::flush_thread_cache();
  EXPECT_EQ(d::pop(5), nullptr);
  EXPECT_TRUE(d::list_empty(5));
}

TEST(TlsCache, InstallAndDetachChainKeepRoomConsistent) {
  spool::alloc::flush_thread_cache();
  std::vector<void*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(spool::alloc::allocate(32));
  spool::alloc::flush_thread_cache();
  // Build a chain by hand out of blocks we own, install it into class 1.
  for (std::size_t i = 0; i + 1 < blocks.size(); ++i) d::store_next(blocks[i], blocks[i + 1]);
  d::store_next(blocks.back(), nullptr);
  d::set_room(1, 100);
  d::install_chain(1, blocks[0], static_cast<std::uint32_t>(blocks.size()));
  EXPECT_EQ(d::room(1), 90);
  void* h = nullptr;
  void* t = nullptr;
  EXPECT_EQ(d::detach_chain(1, 4, &h, &t), 4u);
  EXPECT_EQ(h, blocks[0]);
  EXPECT_EQ(t, blocks[3]);
  EXPECT_EQ(d::room(1), 94);
  std::set<void*> popped;
  while (void* b = d::pop(1)) popped.insert(b);
  EXPECT_EQ(popped.size(), 6u);
  EXPECT_EQ(d::room(1), 100);
  for (int i = 0; i < 4; ++i) {
    void* n = d::load_next(h);
    d::unpoison(h, 32);
    spool::alloc::deallocate(h);
    h = n;
  }
  for (void* b : popped) spool::alloc::deallocate(b);
}

TEST(TlsCache, AllocatedBlocksAreSixteenByteAlignedAndDistinct) {
  std::set<void*> seen;
  std::vector<void*> v;
  for (int i = 0; i < 5000; ++i) {
    void* p = spool::alloc::allocate(static_cast<std::size_t>(1 + i % 1024));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
    EXPECT_TRUE(seen.insert(p).second);
    v.push_back(p);
  }
  for (void* p : v) spool::alloc::deallocate(p);
}

}  // namespace
