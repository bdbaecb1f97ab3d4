// Declared argument layouts of the built-in CUDA kernels and their validation.
#include <gtest/gtest.h>

#include <string>

#include "cu_args.hpp"
#include "cu_kernel.hpp"
#include "spool/backend/ring_abi.h"
#include "spool/error.hpp"
#include "spool_cuda_abi.hpp"

namespace {

using spool::ArgKind;
using spool::cuda::ArgLayout;

std::string message_of(const ArgLayout& l, std::uint32_t compiled = 0) {
  try {
    spool::cuda::validate_layout(l, SPOOL_RING_ARG_BYTES, compiled);
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    return e.what();
  }
  return {};
}

TEST(CudaArgs, BuiltinLayoutsAreValidAndMatchTheGlslArguments) {
  const auto& ls = spool::cuda::builtin_layouts();
  ASSERT_EQ(ls.size(), 6u);
  for (const auto& l : ls) EXPECT_EQ(message_of(l), "") << l.name;
  const ArgLayout* s = spool::cuda::find_layout("saxpy");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->args.size(), 4u);
  EXPECT_EQ(s->args[0].kind, ArgKind::buffer);
  EXPECT_EQ(s->args[0].offset, 0u);
  EXPECT_EQ(s->args[1].offset, 8u);
  EXPECT_EQ(s->args[2].kind, ArgKind::f32);
  EXPECT_EQ(s->args[2].offset, 16u);
  EXPECT_EQ(s->args[3].offset, 20u);
  EXPECT_EQ(s->block_size, 24u);
  EXPECT_EQ(spool::cuda::find_layout("nope"), nullptr);
}

TEST(CudaArgs, RejectsBadLayouts) {
  ArgLayout l{"k", {{"p", ArgKind::buffer, 4, 8}}, 16};
  EXPECT_NE(message_of(l).find("not 8-byte aligned"), std::string::npos);
  l = {"k", {{"p", ArgKind::buffer, 0, 4}}, 8};
  EXPECT_NE(message_of(l).find("must be 8 bytes"), std::string::npos);
  l = {"k", {{"a", ArgKind::u32, 0, 4}, {"b", ArgKind::f32, 0, 4}}, 8};
  EXPECT_NE(message_of(l).find("overlaps argument 0 ('a')"), std::string::npos);
  l = {"k", {{"a", ArgKind::u32, 8, 4}}, 8};
  EXPECT_NE(message_of(l).find("run past"), std::string::npos);
  l = {"k", {{"a", ArgKind::u32, 0, 4}}, 200};
  EXPECT_NE(message_of(l).find("queue slot"), std::string::npos);
  l = {"k", {{"a", ArgKind::u32, 0, 4}}, 8};
  EXPECT_NE(message_of(l, 12).find("compiled kernel takes 12"), std::string::npos);
}

TEST(CudaArgs, RejectsBadItems) {
  alignas(8) std::byte args[24] = {};
  spool::backend::PackedItem ok{4, 0, args}, zero{0, 1, args}, big{1000, 2, args}, noargs{4, 3, nullptr},
      past{4, 4, args, 4}, part{4, 5, args, 3};
  EXPECT_NO_THROW(spool::cuda::check_items("saxpy", std::span(&ok, 1), 24, 512));
  EXPECT_NO_THROW(spool::cuda::check_items("saxpy", std::span(&part, 1), 24, 512));
  for (auto* it : {&zero, &big, &noargs, &past}) {
    try {
      spool::cuda::check_items("saxpy", std::span(it, 1), 24, 512);
      ADD_FAILURE() << "item " << it->index << " accepted";
    } catch (const spool::Error& e) {
      EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("item " + std::to_string(it->index)), std::string::npos);
    }
  }
}

// The per-item kernels take (grid, item, base, Args): the body runs for i in
// [base, grid), one block per `block` indices of that range.
TEST(CudaArgs, LaunchParametersCarryGridItemBaseAndTheArgumentBlockInOrder) {
  alignas(8) std::byte args[24] = {};
  const spool::backend::PackedItem it{1000, 7, args, 640};
  spool::cuda::LaunchParams p(it);
  EXPECT_EQ(*static_cast<std::uint32_t*>(p.ptrs[0]), 1000u);
  EXPECT_EQ(*static_cast<std::uint32_t*>(p.ptrs[1]), 7u);
  EXPECT_EQ(*static_cast<std::uint32_t*>(p.ptrs[2]), 640u);
  EXPECT_EQ(p.ptrs[3], static_cast<void*>(args));
  EXPECT_EQ(spool::cuda::blocks_for(it, 64), 6u);  // 360 indices
  EXPECT_EQ(spool::cuda::blocks_for(spool::backend::PackedItem{1000, 0, args, 0}, 64), 16u);
  EXPECT_EQ(spool::cuda::blocks_for(spool::backend::PackedItem{0xffffffffu, 0, args, 1}, 1024), 4194304u);
}

}  // namespace
