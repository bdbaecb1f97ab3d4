// Error formatting of failed CUDA calls, with forced error codes (no GPU needed).
#include <gtest/gtest.h>

#include <string>

#include "cu_check.hpp"

namespace {

cudaError_t forced(cudaError_t e) { return e; }

TEST(CudaCheck, FailedCallCarriesCallNameAndLocation) {
  try {
    SPOOL_CUDA(forced(cudaErrorInvalidValue));
    FAIL() << "no throw";
  } catch (const spool::Error& e) {
    EXPECT_EQ(e.call(), "forced(cudaErrorInvalidValue)");
    EXPECT_EQ(e.native(), "cudaErrorInvalidValue");
    EXPECT_NE(std::string(e.file()).find("check_test.cpp"), std::string::npos);
    EXPECT_GT(e.line(), 0);
    EXPECT_EQ(e.code(), spool::Errc::invalid_argument);
    const std::string w = e.what();
    EXPECT_NE(w.find("cudaErrorInvalidValue"), std::string::npos) << w;
    EXPECT_NE(w.find("[call: forced(cudaErrorInvalidValue)]"), std::string::npos) << w;
    EXPECT_NE(w.find("check_test.cpp:"), std::string::npos) << w;
  }
}

TEST(CudaCheck, SuccessDoesNotThrow) { EXPECT_NO_THROW(SPOOL_CUDA(forced(cudaSuccess))); }

TEST(CudaCheck, StickyErrorsAreDeviceLostAndSaySo) {
  EXPECT_TRUE(spool::cuda::is_sticky(cudaErrorIllegalAddress));
  EXPECT_FALSE(spool::cuda::is_sticky(cudaErrorInvalidValue));
  const auto e = spool::cuda::make_cuda_error(cudaErrorIllegalAddress, "cudaStreamSynchronize(s)", "f.cpp", 7);
  EXPECT_EQ(e.code(), spool::Errc::device_lost);
  EXPECT_EQ(e.native(), "cudaErrorIllegalAddress");
  EXPECT_NE(std::string(e.what()).find("sticky"), std::string::npos);
}

TEST(CudaCheck, NoDriverIsNotSupported) {
  const auto e = spool::cuda::make_cuda_error(cudaErrorInsufficientDriver, "cudaGetDeviceCount(&n)", "f.cpp", 1);
  EXPECT_EQ(e.code(), spool::Errc::not_supported);
  EXPECT_EQ(e.native(), "cudaErrorInsufficientDriver");
}

TEST(CudaCheck, UnknownCodeStillHasAName) {
  EXPECT_NE(spool::cuda::error_name(static_cast<cudaError_t>(998)), nullptr);
}

}  // namespace
