// Argument layout reflection with the SPIRV-Cross C API.
#include <spirv_cross/spirv_cross_c.h>

#include <algorithm>
#include <memory>
#include <string>

#include "spool/error.hpp"
#include "vk_kernel.hpp"

namespace spool::vulkan {

namespace {

struct SpvcContext {
  spvc_context ctx = nullptr;
  std::string last_error;
  SpvcContext() {
    if (spvc_context_create(&ctx) != SPVC_SUCCESS) {
      SPOOL_THROW(Errc::backend, "SPIRV-Cross: cannot create a context");
    }
    spvc_context_set_error_callback(
        ctx, [](void* self, const char* msg) { static_cast<SpvcContext*>(self)->last_error = msg; },
        this);
  }
  ~SpvcContext() { spvc_context_destroy(ctx); }
};

[[noreturn]] void fail(const std::string& name, const std::string& why) {
  throw Error(Errc::invalid_argument,
              "kernel '" + name + "' does not follow the Spool kernel ABI: " + why,
              "spirv-cross reflection", {}, __FILE__, __LINE__);
}


}  // namespace

namespace {

// A parsed module: the SPIRV-Cross compiler and its resources.
struct Parsed {
  SpvcContext c;
  spvc_compiler comp = nullptr;
  spvc_resources res = nullptr;
  const spvc_reflected_resource* push = nullptr;
  std::size_t push_count = 0;
};

void parse(Parsed& p, std::span<const std::uint32_t> spirv, const std::string& name) {
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': not a SPIR-V module (bad magic)",
                "spirv-cross parse", {}, __FILE__, __LINE__);
  }
  spvc_parsed_ir ir = nullptr;
  if (spvc_context_parse_spirv(p.c.ctx, spirv.data(), spirv.size(), &ir) != SPVC_SUCCESS) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': SPIR-V does not parse: " + p.c.last_error,
                "spvc_context_parse_spirv", {}, __FILE__, __LINE__);
  }
  if (spvc_context_create_compiler(p.c.ctx, SPVC_BACKEND_NONE, ir, SPVC_CAPTURE_MODE_TAKE_OWNERSHIP,
                                   &p.comp) != SPVC_SUCCESS) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': " + p.c.last_error,
                "spvc_context_create_compiler", {}, __FILE__, __LINE__);
  }
  if (spvc_compiler_create_shader_resources(p.comp, &p.res) != SPVC_SUCCESS) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': " + p.c.last_error,
                "spvc_compiler_create_shader_resources", {}, __FILE__, __LINE__);
  }
  spvc_resources_get_resource_list_for_type(p.res, SPVC_RESOURCE_TYPE_PUSH_CONSTANT, &p.push, &p.push_count);
}

[[noreturn]] void unsupported(const std::string& name, const std::string& why) {
  throw Error(Errc::invalid_argument, "kernel '" + name + "' cannot be loaded: " + why,
              "spirv-cross reflection", {}, __FILE__, __LINE__);
}

// One argument from a struct member: a buffer reference or a 32-bit scalar.
ArgSpec member_arg(spvc_compiler comp, spvc_type st, unsigned i, const std::string& kname,
                   bool abi) {
  ArgSpec s;
  const char* mname = spvc_compiler_get_member_name(comp, spvc_type_get_base_type_id(st), i);
  s.name = mname != nullptr && *mname != '\0' ? mname : "arg" + std::to_string(i);
  unsigned moff = 0;
  spvc_compiler_type_struct_member_offset(comp, st, i, &moff);
  std::size_t msize = 0;
  spvc_compiler_get_declared_struct_member_size(comp, st, i, &msize);
  s.offset = moff;
  s.size = static_cast<std::uint32_t>(msize);
  auto bad = [&](const std::string& why) {
    if (abi) fail(kname, why);
    unsupported(kname, why);
  };
  const spvc_type mt = spvc_compiler_get_type_handle(comp, spvc_type_get_member_type(st, i));
  if (spvc_type_get_storage_class(mt) == SpvStorageClassPhysicalStorageBuffer) {
    s.kind = ArgKind::buffer;
    if (s.size != 8) bad("buffer argument '" + s.name + "' is not an 8-byte address");
  } else {
    if (spvc_type_get_vector_size(mt) != 1 || spvc_type_get_num_array_dimensions(mt) != 0) {
      bad("argument '" + s.name + "' is a vector or array (use scalars)");
    }
    switch (spvc_type_get_basetype(mt)) {
      case SPVC_BASETYPE_UINT32: s.kind = ArgKind::u32; break;
      case SPVC_BASETYPE_INT32: s.kind = ArgKind::i32; break;
      case SPVC_BASETYPE_FP32: s.kind = ArgKind::f32; break;
      default: bad("argument '" + s.name + "' has an unsupported type (use buffer references, uint, int or float)");
    }
    if (s.size != 4) bad("scalar argument '" + s.name + "' is not 4 bytes");
  }
  return s;
}

// Why the module is not a Spool ABI launch module; empty when it is.
std::string abi_mismatch(const Parsed& p) {
  static const char* const kLayout = "{uint spool_grid; uint spool_item; uint spool_base; SpoolArgs args;}";
  if (p.push_count != 1) {
    return std::string("expected one push-constant block ") + kLayout + ", found " + std::to_string(p.push_count);
  }
  const spvc_type block = spvc_compiler_get_type_handle(p.comp, p.push[0].base_type_id);
  if (spvc_type_get_num_member_types(block) != 4) {
    return std::string("push constants must be ") + kLayout +
           " (a module built by an older Spool lacks spool_base: rebuild it with spool_add_kernels())";
  }
  static const char* const kHeader[] = {"spool_grid", "spool_item", "spool_base"};
  for (unsigned i = 0; i < 3; ++i) {
    const char* m = spvc_compiler_get_member_name(p.comp, p.push[0].base_type_id, i);
    if (m == nullptr || std::string(m) != kHeader[i]) {
      return "the push-constant block does not start with spool_grid, spool_item and spool_base";
    }
  }
  const spvc_type args_t = spvc_compiler_get_type_handle(p.comp, spvc_type_get_member_type(block, 3));
  if (spvc_type_get_basetype(args_t) != SPVC_BASETYPE_STRUCT) {
    return "the fourth push constant must be the SpoolArgs struct";
  }
  return {};
}

Reflection reflect_abi(Parsed& p, const std::string& name) {
  const spvc_type block = spvc_compiler_get_type_handle(p.comp, p.push[0].base_type_id);
  Reflection r;
  std::size_t total = 0;
  spvc_compiler_get_declared_struct_size(p.comp, block, &total);
  r.push_size = static_cast<std::uint32_t>(total);
  unsigned off = 0;
  spvc_compiler_type_struct_member_offset(p.comp, block, 3, &off);
  r.args_offset = off;
  if (r.args_offset < kPushHeaderBytes) fail(name, "arguments overlap the grid/item/base header");
  const spvc_type args_t = spvc_compiler_get_type_handle(p.comp, spvc_type_get_member_type(block, 3));
  std::size_t args_size = 0;
  spvc_compiler_get_declared_struct_size(p.comp, args_t, &args_size);
  r.arg_block_size = static_cast<std::uint32_t>(args_size);
  const unsigned n = spvc_type_get_num_member_types(args_t);
  for (unsigned i = 0; i < n; ++i) r.args.push_back(member_arg(p.comp, args_t, i, name, true));
  return r;
}

// Any other compute module: its own push constants and storage buffers in
// descriptor set 0 become the arguments; launches and recorded mode only.
Reflection reflect_plain(Parsed& p, const std::string& name) {
  Reflection r;
  r.spool_abi = false;
  if (p.push_count > 1) unsupported(name, "more than one push-constant block");
  if (p.push_count == 1) {
    const spvc_type block = spvc_compiler_get_type_handle(p.comp, p.push[0].base_type_id);
    std::size_t total = 0;
    spvc_compiler_get_declared_struct_size(p.comp, block, &total);
    r.push_size = static_cast<std::uint32_t>(total);
    const unsigned n = spvc_type_get_num_member_types(block);
    for (unsigned i = 0; i < n; ++i) r.args.push_back(member_arg(p.comp, block, i, name, false));
  }
  struct Other {
    spvc_resource_type type;
    const char* what;
  };
  static constexpr Other others[] = {
      {SPVC_RESOURCE_TYPE_UNIFORM_BUFFER, "uniform buffers"},
      {SPVC_RESOURCE_TYPE_STORAGE_IMAGE, "storage images"},
      {SPVC_RESOURCE_TYPE_SAMPLED_IMAGE, "sampled images"},
      {SPVC_RESOURCE_TYPE_SEPARATE_IMAGE, "images"},
      {SPVC_RESOURCE_TYPE_SEPARATE_SAMPLERS, "samplers"},
      {SPVC_RESOURCE_TYPE_ATOMIC_COUNTER, "atomic counters"},
      {SPVC_RESOURCE_TYPE_ACCELERATION_STRUCTURE, "acceleration structures"},
  };
  for (const Other& o : others) {
    const spvc_reflected_resource* list = nullptr;
    std::size_t count = 0;
    spvc_resources_get_resource_list_for_type(p.res, o.type, &list, &count);
    if (count != 0) {
      unsupported(name, std::string("it uses ") + o.what + " ('" + list[0].name +
                            "'); only storage buffers in set 0 and push constants can be arguments");
    }
  }
  const spvc_reflected_resource* list = nullptr;
  std::size_t count = 0;
  spvc_resources_get_resource_list_for_type(p.res, SPVC_RESOURCE_TYPE_STORAGE_BUFFER, &list, &count);
  std::vector<std::pair<std::uint32_t, std::string>> bindings;
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned set = spvc_compiler_get_decoration(p.comp, list[i].id, SpvDecorationDescriptorSet);
    const unsigned binding = spvc_compiler_get_decoration(p.comp, list[i].id, SpvDecorationBinding);
    const std::string rname = list[i].name != nullptr && *list[i].name != '\0' ? list[i].name
                                                                              : "binding" + std::to_string(binding);
    if (set != 0) unsupported(name, "storage buffer '" + rname + "' is in descriptor set " + std::to_string(set) + " (only set 0)");
    const spvc_type t = spvc_compiler_get_type_handle(p.comp, list[i].type_id);
    if (spvc_type_get_num_array_dimensions(t) != 0) {
      unsupported(name, "storage buffer '" + rname + "' is an array of buffers");
    }
    bindings.emplace_back(binding, rname);
  }
  std::sort(bindings.begin(), bindings.end());
  for (std::size_t i = 1; i < bindings.size(); ++i) {
    if (bindings[i].first == bindings[i - 1].first) {
      unsupported(name, "two storage buffers share binding " + std::to_string(bindings[i].first));
    }
  }
  if (bindings.size() > kMaxBindings) {
    unsupported(name, std::to_string(bindings.size()) + " storage buffers (at most " +
                          std::to_string(kMaxBindings) + ")");
  }
  // Packed block: the push-constant image, then one {BufferImpl*, offset}
  // record per binding (resolved to a descriptor when the item runs).
  std::uint32_t off = (r.push_size + 7u) & ~7u;
  for (const auto& [binding, rname] : bindings) {
    r.args.push_back(ArgSpec{rname, ArgKind::bound_buffer, off, kBindingRecordBytes});
    r.bindings.push_back(binding);
    off += kBindingRecordBytes;
  }
  r.arg_block_size = off;
  return r;
}

}  // namespace

Reflection reflect_kernel(std::span<const std::uint32_t> spirv, const std::string& name) {
  validate_spirv(spirv, name);
  Parsed p;
  parse(p, spirv, name);
  const spvc_entry_point* eps = nullptr;
  std::size_t n_eps = 0;
  spvc_compiler_get_entry_points(p.comp, &eps, &n_eps);
  const spvc_entry_point* ep = nullptr;
  for (std::size_t i = 0; i < n_eps; ++i) {
    if (eps[i].execution_model == SpvExecutionModelGLCompute) {
      if (ep != nullptr) unsupported(name, "more than one compute entry point");
      ep = &eps[i];
    }
  }
  if (ep == nullptr) unsupported(name, "the module has no compute (GLCompute) entry point");
  if (spvc_compiler_set_entry_point(p.comp, ep->name, SpvExecutionModelGLCompute) != SPVC_SUCCESS) {
    unsupported(name, p.c.last_error);
  }
  const std::string why = abi_mismatch(p);
  Reflection r = why.empty() ? reflect_abi(p, name) : reflect_plain(p, name);
  r.abi_mismatch = why;
  r.entry = ep->name;
  spvc_specialization_constant x{}, y{}, z{};
  spvc_compiler_get_work_group_size_specialization_constants(p.comp, &x, &y, &z);
  r.local_size_spec = x.id != 0 && x.constant_id == 0;
  r.local_size_x = spvc_compiler_get_execution_mode_argument_by_index(p.comp, SpvExecutionModeLocalSize, 0);
  const unsigned ly = spvc_compiler_get_execution_mode_argument_by_index(p.comp, SpvExecutionModeLocalSize, 1);
  const unsigned lz = spvc_compiler_get_execution_mode_argument_by_index(p.comp, SpvExecutionModeLocalSize, 2);
  if ((y.id == 0 && ly > 1) || (z.id == 0 && lz > 1)) {
    unsupported(name, "its workgroup is " + std::to_string(r.local_size_x) + "x" + std::to_string(ly) + "x" +
                          std::to_string(lz) + "; Spool dispatches 1-dimensional workgroups (local_size_y = local_size_z = 1)");
  }
  if (x.id != 0 && x.constant_id != 0) {
    unsupported(name, "local_size_x is specialization constant " + std::to_string(x.constant_id) +
                          "; Spool sets the workgroup size through constant_id 0 only");
  }
  if (r.spool_abi && !r.local_size_spec) {
    fail(name, "the workgroup size must be specialization constant 0 (layout(local_size_x_id = 0) in)");
  }
  return r;
}

}  // namespace spool::vulkan

namespace spool::vulkan {

// A plain walk over the instruction stream (the modules were parsed and
// reflected already); every length is checked before use.
LoopInfo scan_loops(std::span<const std::uint32_t> launch, std::span<const std::uint32_t> persistent) {
  constexpr std::uint32_t kOpDecorate = 71, kOpSpecConstant = 50, kOpLoopMerge = 246;
  constexpr std::uint32_t kDecorationSpecId = 1;
  auto walk = [](std::span<const std::uint32_t> m, auto&& visit) {
    for (std::size_t at = 5; at < m.size();) {
      const std::uint32_t count = m[at] >> 16;
      if (count == 0 || at + count > m.size()) return;
      visit(m[at] & 0xffffu, m.subspan(at + 1, count - 1));
      at += count;
    }
  };
  LoopInfo info;
  walk(launch, [&](std::uint32_t op, std::span<const std::uint32_t>) {
    if (op == kOpLoopMerge) ++info.body_loops;
  });
  std::optional<std::uint32_t> bound_id;
  walk(persistent, [&](std::uint32_t op, std::span<const std::uint32_t> a) {
    if (op == kOpDecorate && a.size() >= 3 && a[1] == kDecorationSpecId && a[2] == 1) bound_id = a[0];
  });
  if (bound_id) {
    walk(persistent, [&](std::uint32_t op, std::span<const std::uint32_t> a) {
      if (op == kOpSpecConstant && a.size() >= 3 && a[1] == *bound_id && a[2] != 0xffffffffu) {
        info.declared_bound = a[2];
      }
    });
  }
  return info;
}

}  // namespace spool::vulkan
