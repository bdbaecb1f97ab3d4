// SPIR-V validation with SPIRV-Tools, before anything parses a module:
// SPIRV-Cross and the drivers assume valid input (a damaged module can crash
// them), so a module the validator rejects never reaches them.
#include <spirv-tools/libspirv.hpp>

#include <string>

#include "spool/error.hpp"
#include "vk_kernel.hpp"

namespace spool::vulkan {

void validate_spirv(std::span<const std::uint32_t> spirv, const std::string& name) {
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) {
    throw Error(Errc::invalid_argument,
                "kernel '" + name + "': not a SPIR-V module (" +
                    (spirv.size() < 5 ? std::to_string(spirv.size()) + " words, a header alone is 5"
                                      : std::string("bad magic number")) +
                    ")",
                "spvValidate", {}, __FILE__, __LINE__);
  }
  // Spool creates Vulkan 1.2 instances: the module must be valid for them
  // (SPIR-V 1.0 - 1.5, Vulkan's rules). The first message is the reason.
  spvtools::SpirvTools tools(SPV_ENV_VULKAN_1_2);
  std::string first;
  tools.SetMessageConsumer([&first](spv_message_level_t level, const char*, const spv_position_t& pos,
                                    const char* message) {
    if (!first.empty() || level > SPV_MSG_ERROR) return;
    first = std::string(message != nullptr ? message : "invalid") + " (word " + std::to_string(pos.index) + ")";
  });
  spvtools::ValidatorOptions options;
  if (!tools.Validate(spirv.data(), spirv.size(), options)) {
    throw Error(Errc::invalid_argument,
                "kernel '" + name + "': the SPIR-V module is not valid for Vulkan 1.2: " +
                    (first.empty() ? std::string("rejected by the validator") : first),
                "spvtools::SpirvTools::Validate", "SPV_ERROR_INVALID_BINARY", __FILE__, __LINE__);
  }
}

}  // namespace spool::vulkan
