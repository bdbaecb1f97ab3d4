// Application kernel descriptors (spool/cuda/app_kernel_desc.hpp): checked
// and turned into the kernel's description. Host-only logic, tested without
// a GPU; the device-dependent checks (architecture, block limits) are in
// CuDeviceImpl::load_app.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cu_args.hpp"
#include "spool/backend/backend.hpp"
#include "spool/cuda/app_kernel_desc.hpp"

namespace spool::cuda {

// Largest argument block of an application kernel (kernel parameter space
// less grid and item; app_kernel.cuh asserts the same at compile time).
inline constexpr std::uint32_t kMaxAppArgsBytes = 4096 - 16;

// Throws spool::Error(invalid_argument) for a name that cannot identify an
// application kernel: empty, longer than 64, characters outside
// [A-Za-z0-9_.:-], or the name of a built-in kernel (launch models and
// autotune records are keyed by name).
void check_app_kernel_name(std::string_view name);

// The declared layout (names, kinds, offsets, sizes) of a descriptor.
ArgLayout app_layout(const AppKernelDesc& d);

// Why the descriptor has no persistent variant; empty when it has one.
std::string app_persistent_unavailable_reason(const AppKernelDesc& d);

// Checks a descriptor (ABI version, name, thunks, argument layout against
// sizeof(Args)) and returns the kernel's description for `block` threads per
// block. `source_id` names the kernel's source for autotune keys; empty:
// derived from the name and the argument layout. Throws
// spool::Error(invalid_argument) saying what is wrong.
backend::KernelDesc describe_app_kernel(const AppKernelDesc& d, std::uint32_t block,
                                        std::string_view source_id = {});

}  // namespace spool::cuda
