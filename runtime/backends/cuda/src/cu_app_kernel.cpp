#include "cu_app_kernel.hpp"

#include <string>

#include "builtin_table.hpp"
#include "spool/backend/ring_abi.h"
#include "spool/error.hpp"

namespace spool::cuda {

namespace {

static_assert(static_cast<int>(AppArgKind::buffer) == static_cast<int>(ArgKind::buffer) &&
                  static_cast<int>(AppArgKind::u32) == static_cast<int>(ArgKind::u32) &&
                  static_cast<int>(AppArgKind::i32) == static_cast<int>(ArgKind::i32) &&
                  static_cast<int>(AppArgKind::f32) == static_cast<int>(ArgKind::f32),
              "AppArgKind must mirror spool::ArgKind");

[[noreturn]] void bad(const std::string& msg, int line) {
  throw Error(Errc::invalid_argument, msg, "spool::cuda::load_kernel", {}, __FILE__, line);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

}  // namespace

void check_app_kernel_name(std::string_view name) {
  if (name.empty()) bad("application kernel: empty name", __LINE__);
  const std::string k = "application kernel '" + std::string(name) + "'";
  if (name.size() > 64) bad(k + ": name longer than 64 characters", __LINE__);
  for (char c : name) {
    if (!name_char(c)) bad(k + ": names use only A-Z a-z 0-9 _ . : -", __LINE__);
  }
  std::size_t n = 0;
  const auto* t = kernels::builtin_cuda(&n);
  for (std::size_t i = 0; i < n; ++i) {
    if (name == t[i].name) {
      bad(k + ": the name of a built-in kernel (launch models and autotune records are keyed by "
              "name); choose another, e.g. 'app." + std::string(name) + "'",
          __LINE__);
    }
  }
}

ArgLayout app_layout(const AppKernelDesc& d) {
  ArgLayout l;
  l.name = d.name != nullptr ? d.name : "";
  l.block_size = d.args_size;
  l.args.reserve(d.arg_count);
  for (std::uint32_t i = 0; i < d.arg_count; ++i) {
    const AppArg& a = d.args[i];
    l.args.push_back(ArgSpec{a.name != nullptr ? a.name : "", static_cast<ArgKind>(a.kind), a.offset, a.size});
  }
  return l;
}

std::string app_persistent_unavailable_reason(const AppKernelDesc& d) {
  if (d.args_size > SPOOL_RING_ARG_BYTES) {
    return "arguments of " + std::to_string(d.args_size) + " bytes do not fit the " +
           std::to_string(SPOOL_RING_ARG_BYTES) + "-byte argument area of a queue slot";
  }
  if (d.launch_persistent == nullptr) return "the descriptor has no persistent kernel";
  return {};
}

backend::KernelDesc describe_app_kernel(const AppKernelDesc& d, std::uint32_t block, std::string_view source_id) {
  if (d.abi_version != kAppKernelAbiVersion) {
    bad("application kernel descriptor built with app_kernel.cuh ABI version " + std::to_string(d.abi_version) +
            ", this Spool expects " + std::to_string(kAppKernelAbiVersion) +
            ": rebuild the application against this Spool's headers",
        __LINE__);
  }
  check_app_kernel_name(d.name != nullptr ? d.name : "");
  const std::string k = "application kernel '" + std::string(d.name) + "'";
  if (d.launch == nullptr || d.probe == nullptr) bad(k + ": the descriptor has no launch thunk", __LINE__);
  if ((d.launch_persistent == nullptr) != (d.persistent_occupancy == nullptr)) {
    bad(k + ": the descriptor has only one of the persistent thunks", __LINE__);
  }
  if (d.args_size > SPOOL_RING_ARG_BYTES && d.launch_persistent != nullptr) {
    bad(k + ": a persistent thunk for arguments larger than a queue slot", __LINE__);
  }
  if (d.arg_count == 0 || d.args == nullptr) bad(k + ": no declared arguments", __LINE__);
  for (std::uint32_t i = 0; i < d.arg_count; ++i) {
    if (static_cast<unsigned>(d.args[i].kind) > static_cast<unsigned>(AppArgKind::f32)) {
      bad(k + ": argument " + std::to_string(i) + " has an unknown kind", __LINE__);
    }
  }
  if (d.args_align == 0 || d.args_align > 16 || (d.args_align & (d.args_align - 1)) != 0 ||
      d.args_size % d.args_align != 0) {
    bad(k + ": argument struct alignment " + std::to_string(d.args_align) + " is not a power of two <= 16 "
            "dividing its size",
        __LINE__);
  }
  const ArgLayout layout = app_layout(d);
  validate_layout(layout, kMaxAppArgsBytes, d.args_size, "the kernel parameter space");

  backend::KernelDesc out;
  out.name = d.name;
  out.variant = "wg=" + std::to_string(block);
  if (!source_id.empty()) {
    out.source_hash = "app:" + std::string(source_id);
  } else {
    std::string sig = "app:" + out.name + "(";
    for (const auto& a : layout.args) {
      sig += a.name + ":" + to_string(a.kind) + "@" + std::to_string(a.offset) + ",";
    }
    out.source_hash = sig + ")" + std::to_string(d.args_size);
  }
  out.args = layout.args;
  out.arg_block_size = d.args_size;
  out.persistent_unavailable_reason = app_persistent_unavailable_reason(d);
  out.has_persistent = out.persistent_unavailable_reason.empty();
  out.tunable = false;
  return out;
}

}  // namespace spool::cuda
