#include "cu_args.hpp"

#include <algorithm>
#include <cstddef>

#include "spool/error.hpp"
#include "spool_cuda_abi.hpp"

namespace spool::cuda {

namespace {

using namespace abi;

ArgSpec buf(std::string n, std::uint32_t o) { return ArgSpec{std::move(n), ArgKind::buffer, o, 8}; }
ArgSpec u32(std::string n, std::uint32_t o) { return ArgSpec{std::move(n), ArgKind::u32, o, 4}; }
ArgSpec f32(std::string n, std::uint32_t o) { return ArgSpec{std::move(n), ArgKind::f32, o, 4}; }

std::vector<ArgLayout> make_layouts() {
  std::vector<ArgLayout> v;
  v.push_back({"empty", {u32("unused", offsetof(EmptyArgs, unused))}, sizeof(EmptyArgs)});
  v.push_back({"saxpy",
               {buf("x", offsetof(SaxpyArgs, x)), buf("y", offsetof(SaxpyArgs, y)),
                f32("a", offsetof(SaxpyArgs, a)), u32("n", offsetof(SaxpyArgs, n))},
               sizeof(SaxpyArgs)});
  v.push_back({"reduce_step",
               {buf("in_v", offsetof(ReduceStepArgs, in_v)), buf("out_v", offsetof(ReduceStepArgs, out_v)),
                u32("n", offsetof(ReduceStepArgs, n))},
               sizeof(ReduceStepArgs)});
  v.push_back({"stencil_step",
               {buf("src", offsetof(StencilStepArgs, src)), buf("dst", offsetof(StencilStepArgs, dst)),
                f32("alpha", offsetof(StencilStepArgs, alpha)), u32("n", offsetof(StencilStepArgs, n))},
               sizeof(StencilStepArgs)});
  v.push_back({"tally",
               {buf("counts", offsetof(TallyArgs, counts)), u32("item_id", offsetof(TallyArgs, item_id))},
               sizeof(TallyArgs)});
  v.push_back({"spin",
               {buf("gate", offsetof(SpinArgs, gate)), buf("marks", offsetof(SpinArgs, marks)),
                u32("item_id", offsetof(SpinArgs, item_id)), u32("limit", offsetof(SpinArgs, limit))},
               sizeof(SpinArgs)});
  return v;
}

[[noreturn]] void bad(const std::string& msg, int line) {
  throw Error(Errc::invalid_argument, msg, "validate_layout", {}, __FILE__, line);
}

}  // namespace

const std::vector<ArgLayout>& builtin_layouts() {
  static const std::vector<ArgLayout> layouts = make_layouts();
  return layouts;
}

const ArgLayout* find_layout(std::string_view kernel) {
  for (const auto& l : builtin_layouts()) {
    if (l.name == kernel) return &l;
  }
  return nullptr;
}

void validate_layout(const ArgLayout& l, std::uint32_t max_block, std::uint32_t compiled_size,
                     std::string_view limit) {
  const std::string k = "kernel '" + l.name + "'";
  if (l.block_size == 0) bad(k + ": empty argument block", __LINE__);
  if (l.block_size > max_block) {
    bad(k + ": argument block of " + std::to_string(l.block_size) + " bytes exceeds the " +
            std::to_string(max_block) + " bytes of " + std::string(limit), __LINE__);
  }
  if (compiled_size != 0 && compiled_size != l.block_size) {
    bad(k + ": declared argument block is " + std::to_string(l.block_size) +
            " bytes but the compiled kernel takes " + std::to_string(compiled_size), __LINE__);
  }
  for (std::size_t i = 0; i < l.args.size(); ++i) {
    const ArgSpec& a = l.args[i];
    const std::string where = k + " argument " + std::to_string(i) + " ('" + a.name + "')";
    const std::uint32_t want = a.kind == ArgKind::buffer ? 8u : 4u;
    if (a.size != want) {
      bad(where + ": " + to_string(a.kind) + " must be " + std::to_string(want) + " bytes, declared " +
              std::to_string(a.size), __LINE__);
    }
    if (a.offset % want != 0) {
      bad(where + ": offset " + std::to_string(a.offset) + " is not " + std::to_string(want) +
              "-byte aligned", __LINE__);
    }
    if (std::uint64_t{a.offset} + a.size > l.block_size) {
      bad(where + ": bytes " + std::to_string(a.offset) + ".." + std::to_string(a.offset + a.size) +
              " run past the " + std::to_string(l.block_size) + "-byte block", __LINE__);
    }
    for (std::size_t j = 0; j < i; ++j) {
      const ArgSpec& b = l.args[j];
      if (a.offset < b.offset + b.size && b.offset < a.offset + a.size) {
        bad(where + ": overlaps argument " + std::to_string(j) + " ('" + b.name + "')", __LINE__);
      }
    }
  }
}

void check_items(std::string_view kernel, std::span<const backend::PackedItem> items,
                 std::uint32_t block_size, std::uint64_t max_grid) {
  for (const auto& it : items) {
    const std::string where = "kernel '" + std::string(kernel) + "' item " + std::to_string(it.index);
    if (it.grid == 0 || it.grid > max_grid) {
      throw Error(Errc::invalid_argument,
                  where + ": grid " + std::to_string(it.grid) + " outside 1.." + std::to_string(max_grid),
                  "execute", {}, __FILE__, __LINE__);
    }
    if (it.begin >= it.grid) {
      throw Error(Errc::invalid_argument,
                  where + ": first index " + std::to_string(it.begin) + " is not below its grid " +
                      std::to_string(it.grid),
                  "execute", {}, __FILE__, __LINE__);
    }
    if (it.args == nullptr && block_size != 0) {
      throw Error(Errc::invalid_argument, where + ": no argument block", "execute", {}, __FILE__, __LINE__);
    }
  }
}

}  // namespace spool::cuda
