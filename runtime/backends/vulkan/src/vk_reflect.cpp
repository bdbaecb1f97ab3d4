// Argument layout reflection with the SPIRV-Cross C API.
#include <spirv_cross/spirv_cross_c.h>

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

ArgKind scalar_kind(spvc_basetype b, const std::string& name, const std::string& member) {
  switch (b) {
    case SPVC_BASETYPE_UINT32: return ArgKind::u32;
    case SPVC_BASETYPE_INT32: return ArgKind::i32;
    case SPVC_BASETYPE_FP32: return ArgKind::f32;
    default:
      fail(name, "argument '" + member + "' has an unsupported type (use buffer references, "
                 "uint, int or float)");
  }
}

}  // namespace

Reflection reflect_launch_abi(std::span<const std::uint32_t> spirv, const std::string& name) {
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': not a SPIR-V module (bad magic)",
                "spirv-cross parse", {}, __FILE__, __LINE__);
  }
  SpvcContext c;
  spvc_parsed_ir ir = nullptr;
  if (spvc_context_parse_spirv(c.ctx, spirv.data(), spirv.size(), &ir) != SPVC_SUCCESS) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': SPIR-V does not parse: " + c.last_error,
                "spvc_context_parse_spirv", {}, __FILE__, __LINE__);
  }
  spvc_compiler comp = nullptr;
  if (spvc_context_create_compiler(c.ctx, SPVC_BACKEND_NONE, ir, SPVC_CAPTURE_MODE_TAKE_OWNERSHIP,
                                   &comp) != SPVC_SUCCESS) {
    throw Error(Errc::invalid_argument, "kernel '" + name + "': " + c.last_error,
                "spvc_context_create_compiler", {}, __FILE__, __LINE__);
  }
  spvc_resources res = nullptr;
  if (spvc_compiler_create_shader_resources(comp, &res) != SPVC_SUCCESS) {
    fail(name, c.last_error);
  }
  const spvc_reflected_resource* list = nullptr;
  std::size_t count = 0;
  spvc_resources_get_resource_list_for_type(res, SPVC_RESOURCE_TYPE_PUSH_CONSTANT, &list, &count);
  if (count != 1) fail(name, "expected one push-constant block, found " + std::to_string(count));

  const spvc_type block = spvc_compiler_get_type_handle(comp, list[0].base_type_id);
  const unsigned members = spvc_type_get_num_member_types(block);
  if (members != 3) {
    fail(name, "push constants must be {uint spool_grid; uint spool_item; SpoolArgs args;}");
  }
  Reflection r;
  std::size_t total = 0;
  spvc_compiler_get_declared_struct_size(comp, block, &total);
  r.push_size = static_cast<std::uint32_t>(total);
  unsigned off = 0;
  spvc_compiler_type_struct_member_offset(comp, block, 2, &off);
  r.args_offset = off;
  if (r.args_offset < kPushHeaderBytes) fail(name, "arguments overlap the grid/item header");

  const spvc_type_id args_id = spvc_type_get_member_type(block, 2);
  const spvc_type args_t = spvc_compiler_get_type_handle(comp, args_id);
  if (spvc_type_get_basetype(args_t) != SPVC_BASETYPE_STRUCT) {
    fail(name, "the third push constant must be the SpoolArgs struct");
  }
  std::size_t args_size = 0;
  spvc_compiler_get_declared_struct_size(comp, args_t, &args_size);
  r.arg_block_size = static_cast<std::uint32_t>(args_size);
  const unsigned n = spvc_type_get_num_member_types(args_t);
  for (unsigned i = 0; i < n; ++i) {
    ArgSpec s;
    const char* mname = spvc_compiler_get_member_name(comp, spvc_type_get_base_type_id(args_t), i);
    s.name = mname != nullptr && *mname != '\0' ? mname : "arg" + std::to_string(i);
    unsigned moff = 0;
    spvc_compiler_type_struct_member_offset(comp, args_t, i, &moff);
    std::size_t msize = 0;
    spvc_compiler_get_declared_struct_member_size(comp, args_t, i, &msize);
    s.offset = moff;
    s.size = static_cast<std::uint32_t>(msize);
    const spvc_type mt = spvc_compiler_get_type_handle(comp, spvc_type_get_member_type(args_t, i));
    if (spvc_type_get_storage_class(mt) == SpvStorageClassPhysicalStorageBuffer) {
      s.kind = ArgKind::buffer;
      if (s.size != 8) fail(name, "buffer argument '" + s.name + "' is not an 8-byte address");
    } else {
      if (spvc_type_get_vector_size(mt) != 1 || spvc_type_get_num_array_dimensions(mt) != 0) {
        fail(name, "argument '" + s.name + "' is a vector or array (use scalars)");
      }
      s.kind = scalar_kind(spvc_type_get_basetype(mt), name, s.name);
      if (s.size != 4) fail(name, "scalar argument '" + s.name + "' is not 4 bytes");
    }
    r.args.push_back(std::move(s));
  }
  return r;
}

}  // namespace spool::vulkan
