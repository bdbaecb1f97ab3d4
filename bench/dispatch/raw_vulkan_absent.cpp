// Builds without the Vulkan backend (CUDA only) have no raw-Vulkan
// baselines: constructing one says so, and the benchmark reports them as
// unavailable.
#include "bench.hpp"
#include "raw_vulkan.hpp"

namespace bench {

struct RawVulkan::Impl {};

RawVulkan::RawVulkan(const std::string&, std::uint32_t, std::uint32_t) {
  throw Error("this build has no Vulkan backend, so no raw-Vulkan baselines");
}
RawVulkan::~RawVulkan() = default;
const std::string& RawVulkan::device_name() const noexcept {
  static const std::string none;
  return none;
}
bool RawVulkan::has_loop_budget() const noexcept { return false; }
std::uint32_t RawVulkan::resident_budget() const noexcept { return 0; }
RawTiming RawVulkan::submit_per_dispatch(std::uint32_t, std::uint32_t) { return {}; }
RawTiming RawVulkan::one_command_buffer(std::uint32_t, std::uint32_t) { return {}; }
RawTiming RawVulkan::resident(std::uint32_t) { return {}; }

}  // namespace bench
