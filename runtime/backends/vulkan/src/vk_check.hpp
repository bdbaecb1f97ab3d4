// Vulkan error checking: every call's VkResult is checked and turned into a
// spool::Error carrying the call, the VkResult name and file:line.
#pragma once

#include <vulkan/vulkan.h>

#include "spool/error.hpp"

namespace spool::vulkan {

const char* result_name(VkResult r) noexcept;
[[noreturn]] void throw_vk(VkResult r, const char* call, const char* file, int line);

}  // namespace spool::vulkan

#define SPOOL_VK(call)                                                       \
  do {                                                                       \
    const VkResult spool_vk_r_ = (call);                                     \
    if (spool_vk_r_ != VK_SUCCESS) {                                         \
      ::spool::vulkan::throw_vk(spool_vk_r_, #call, __FILE__, __LINE__);     \
    }                                                                        \
  } while (0)
