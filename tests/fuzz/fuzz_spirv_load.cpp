// libFuzzer: loading SPIR-V as Device::load_spirv does before it touches the
// driver -- validation (SPIRV-Tools) and reflection (SPIRV-Cross) -- with no
// device. Anything but a spool::Error is a bug; so is a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "spool/error.hpp"
#include "vk_kernel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint32_t> words(size / 4);
  if (!words.empty()) std::memcpy(words.data(), data, words.size() * 4);
  try {
    const spool::vulkan::Reflection r = spool::vulkan::reflect_kernel(words, "fuzz");
    // A module that loads has a layout that fits its own argument block.
    for (const auto& a : r.args) {
      if (a.offset + a.size > r.arg_block_size) __builtin_trap();
    }
  } catch (const spool::Error&) {
    // A clear refusal: the expected outcome for almost every input.
  }
  return 0;
}
