// What the benchmark needs from the operating system: CPU affinity (--pin),
// and the conditions a run was measured under (affinity, load, date).
#pragma once

#include <string>
#include <vector>

namespace bench {

// Parses a CPU list ("0", "0,2", "0-3,6"). Throws bench::Error naming the
// problem when the list is malformed or names a CPU this process may not use.
std::vector<int> parse_cpu_list(const std::string& list);

// Restricts every thread of the process (each task in /proc/self/task) to
// `cpus`, so threads started later (the Vulkan driver's) inherit it. Returns
// the number of threads pinned; throws bench::Error when the kernel refuses.
int pin_process(const std::vector<int>& cpus);

// The calling thread's affinity as a CPU list ("0-1"), and the CPUs online.
std::string affinity_list();
int cpus_online();
// "/proc/loadavg"'s first three fields ("7.73 7.59 7.08"), or "unknown".
std::string load_average();
// Local date and time, "2026-11-22 14:05".
std::string now_string();

}  // namespace bench
