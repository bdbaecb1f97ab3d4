// Raw-Vulkan baselines, written with the plain Vulkan API and no Spool code:
// the same tiny work as Spool's `tally` with grid 1 (counts[id] += 1,
// atomically, through a buffer device address), run three ways on a second
// VkDevice of the physical device Spool opened, in the same process:
//   (a) submit_per_dispatch: per item, record one dispatch, vkQueueSubmit,
//       vkWaitForFences — what a naive application does;
//   (b) one_command_buffer: n dispatches recorded into one command buffer,
//       one submit, one wait (recording included);
//   (c) resident: a resident shader (one invocation) polls a ring of item
//       ids in host-coherent memory, runs each item and publishes a done
//       counter; the host publishes n items and waits for the counter
//       (spinning 1000 polls after each progress unless the process has
//       one CPU, then sleeping 10 us between checks). On a
//       driver with a loop budget (llvmpipe: 65 535 loop iterations per
//       invocation, never reset) the shader stops after a fixed number of
//       passes — one pass runs one item or polls 64 times (unrolled) — and
//       the host relaunches it at once; relaunches are counted and included
//       in the time. This is the floor for Spool's persistent mode: the
//       simplest resident shader that is correct on llvmpipe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace bench {

struct RawTiming {
  double ns = 0;                 // wall time of the timed part
  std::uint32_t items_run = 0;   // items run (== n for (c))
  std::uint32_t relaunches = 0;  // (c): relaunches of a retired shader
};

class RawVulkan {
 public:
  // Opens the physical device whose VkPhysicalDeviceIDProperties::deviceUUID
  // is `uuid_hex` (Spool's DeviceInfo::uuid) with its own VkInstance.
  // `launch_workgroup` is the workgroup size of (a)/(b)'s shader (the same as
  // Spool's launch variant); `capacity` the most items one run may have.
  // Throws bench::Error (call, VkResult, file:line) when anything fails.
  RawVulkan(const std::string& uuid_hex, std::uint32_t launch_workgroup, std::uint32_t capacity);
  ~RawVulkan();
  RawVulkan(const RawVulkan&) = delete;
  RawVulkan& operator=(const RawVulkan&) = delete;

  const std::string& device_name() const noexcept;
  bool has_loop_budget() const noexcept;  // llvmpipe
  std::uint32_t resident_budget() const noexcept;  // passes per launch of (c)

  // Each returns the time of n items (n <= capacity); (a) and (b) run
  // min(n, cap) items. Counters are reset before and verified after each
  // run (outside the timed part); a wrong count throws bench::Error.
  RawTiming submit_per_dispatch(std::uint32_t n, std::uint32_t cap);
  RawTiming one_command_buffer(std::uint32_t n, std::uint32_t cap);
  // (c): the shader is launched and seen running before the clock starts,
  // and stopped after it stops.
  RawTiming resident(std::uint32_t n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bench
