#include "cu_check.hpp"

namespace spool::cuda {

bool is_sticky(cudaError_t e) noexcept {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
    case cudaErrorAssert:
    case cudaErrorContextIsDestroyed:
      return true;
    default:
      return false;
  }
}

const char* error_name(cudaError_t e) noexcept {
  const char* n = cudaGetErrorName(e);
  return n != nullptr ? n : "cudaErrorUnrecognized";
}

Error make_cuda_error(cudaError_t e, const char* call, const char* file, int line, std::string_view hint) {
  const char* desc = cudaGetErrorString(e);
  std::string what = std::string("CUDA call failed: ") + error_name(e);
  if (desc != nullptr) what += std::string(" (") + desc + ")";
  Errc code = Errc::backend;
  if (is_sticky(e)) {
    what += "; sticky: the CUDA context was corrupted by a kernel fault (this or earlier work) "
            "and every later call fails the same way";
    code = Errc::device_lost;
  } else if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver ||
             e == cudaErrorDevicesUnavailable) {
    code = Errc::not_supported;
  } else if (e == cudaErrorInvalidValue || e == cudaErrorInvalidConfiguration) {
    code = Errc::invalid_argument;
  }
  if (!hint.empty()) what += std::string("; ") + std::string(hint);
  return Error(code, std::move(what), call != nullptr ? call : "", error_name(e), file, line);
}

void throw_cuda(cudaError_t e, const char* call, const char* file, int line, std::string_view hint) {
  throw make_cuda_error(e, call, file, line, hint);
}

void check_pending(const char* file, int line, bool clear_foreign) {
  const cudaError_t pending = cudaPeekAtLastError();
  if (pending == cudaSuccess) return;
  if (is_sticky(pending)) {
    throw make_cuda_error(pending, "earlier work (cudaPeekAtLastError before this batch)", file, line);
  }
  if (clear_foreign) (void)cudaGetLastError();  // not ours and not sticky: clear it
}

}  // namespace spool::cuda
