// CUDA error checking: every runtime call's cudaError_t is checked and turned
// into a spool::Error carrying the call, the error name (cudaGetErrorName)
// and file:line. Sticky errors (the context is corrupted by an earlier kernel
// fault and every later call returns the same code) are reported as such, not
// blamed on the call that happened to observe them.
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <string_view>

#include "spool/error.hpp"

namespace spool::cuda {

// True for the codes that leave the CUDA context unusable (sticky).
bool is_sticky(cudaError_t e) noexcept;
// The name of a code ("cudaErrorInvalidValue"); never null.
const char* error_name(cudaError_t e) noexcept;
// The spool::Error for a failed call (not thrown). `hint`, when not empty, is
// appended to the message (what to do about it).
Error make_cuda_error(cudaError_t e, const char* call, const char* file, int line,
                      std::string_view hint = {});
[[noreturn]] void throw_cuda(cudaError_t e, const char* call, const char* file, int line,
                             std::string_view hint = {});

// Before new work: a sticky error left by earlier work is reported as that
// (device_lost, call "earlier work"), a pending non-sticky launch error from
// someone else's launch is cleared (`clear_foreign`) so it is not blamed on
// this batch, or left alone for the application that owns it (borrowed
// streams: Spool's calls are checked by their return codes either way).
void check_pending(const char* file, int line, bool clear_foreign = true);

}  // namespace spool::cuda

#define SPOOL_CUDA(call)                                                    \
  do {                                                                      \
    const cudaError_t spool_cu_e_ = (call);                                 \
    if (spool_cu_e_ != cudaSuccess) {                                       \
      ::spool::cuda::throw_cuda(spool_cu_e_, #call, __FILE__, __LINE__);    \
    }                                                                       \
  } while (0)
