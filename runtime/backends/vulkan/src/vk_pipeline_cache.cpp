// A VkPipelineCache persisted next to the autotune store, one file per device
// and driver, so variants built in one run (the autotuner's side compiles)
// are cheap in the next. The file is replaced atomically (write + rename);
// data the driver rejects is kept aside, never silently deleted.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vk_check.hpp"
#include "vk_device.hpp"

namespace spool::vulkan {

namespace {

std::string sanitize(std::string s) {
  for (char& c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) c = '_';
  }
  return s;
}

// The Vulkan pipeline-cache header (version one): size, version, vendor,
// device, pipelineCacheUUID; it must match this physical device.
bool header_matches(const std::vector<char>& data, VkPhysicalDevice pd) {
  if (data.size() < 32) return false;
  std::uint32_t w[4];
  std::memcpy(w, data.data(), sizeof w);
  VkPhysicalDeviceProperties p{};
  vkGetPhysicalDeviceProperties(pd, &p);
  return w[0] >= 32 && w[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && w[2] == p.vendorID &&
         w[3] == p.deviceID && std::memcmp(data.data() + 16, p.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

}  // namespace

void VkDeviceImpl::attach_cache_dir(const std::string& dir) {
  std::lock_guard lk(cache_mu_);
  if (pipeline_cache_ || app_cache_ != VK_NULL_HANDLE) return;
  const auto& i = info();
  const std::string hash = std::to_string(std::hash<std::string>{}(i.driver_version + "|" + i.api_version));
  pipeline_cache_path_ = dir + "/vulkan-pipelines-" + sanitize(i.uuid) + "-" + hash + ".bin";

  std::vector<char> data;
  if (std::ifstream f(pipeline_cache_path_, std::ios::binary); f) {
    data.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (!data.empty() && !header_matches(data, ctx_->physical().handle)) {
    // Another driver's (or a damaged) cache: keep it aside, start empty.
    const std::string aside = pipeline_cache_path_ + ".rejected";
    std::fprintf(stderr, "spool: pipeline cache %s does not match this device/driver; moved to %s\n",
                 pipeline_cache_path_.c_str(), aside.c_str());
    std::rename(pipeline_cache_path_.c_str(), aside.c_str());
    data.clear();
  }
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = data.size();
  ci.pInitialData = data.empty() ? nullptr : data.data();
  VkPipelineCache c = VK_NULL_HANDLE;
  VkResult r = vkCreatePipelineCache(ctx_->device(), &ci, nullptr, &c);
  if (r != VK_SUCCESS && !data.empty()) {
    const std::string aside = pipeline_cache_path_ + ".rejected";
    std::fprintf(stderr, "spool: the driver rejected the pipeline cache %s (%s); moved to %s\n",
                 pipeline_cache_path_.c_str(), result_name(r), aside.c_str());
    std::rename(pipeline_cache_path_.c_str(), aside.c_str());
    ci.initialDataSize = 0;
    ci.pInitialData = nullptr;
    r = vkCreatePipelineCache(ctx_->device(), &ci, nullptr, &c);
  }
  if (r != VK_SUCCESS) throw_vk(r, "vkCreatePipelineCache", __FILE__, __LINE__);
  pipeline_cache_ = OwnedPipelineCache(ctx_->device(), c);
}

void VkDeviceImpl::save_pipeline_cache() noexcept {
  if (!pipeline_cache_ || pipeline_cache_path_.empty()) return;
  std::size_t size = 0;
  if (vkGetPipelineCacheData(ctx_->device(), pipeline_cache_.get(), &size, nullptr) != VK_SUCCESS || size == 0) {
    return;
  }
  std::vector<char> data(size);
  if (vkGetPipelineCacheData(ctx_->device(), pipeline_cache_.get(), &size, data.data()) != VK_SUCCESS) return;
  // Per-process temporary name: processes sharing the store may save at once.
  const std::string tmp = pipeline_cache_path_ + "." + std::to_string(getpid()) + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return;  // a read-only cache directory: nothing to keep
    f.write(data.data(), static_cast<std::streamsize>(size));
    if (!f) return;
  }
  std::rename(tmp.c_str(), pipeline_cache_path_.c_str());
}

}  // namespace spool::vulkan
