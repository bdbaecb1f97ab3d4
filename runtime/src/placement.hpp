// Where this process may run: part of the key under which a CPU device's
// launch profile is stored, since the same device measures very differently
// on one core than on several (docs/runtime.md, "Launch model"). Internal.
#pragma once

#include <string>

namespace spool {

// "cpus 0-1 of 2": the calling thread's affinity mask, as ranges, and the
// CPUs online. Threads a device starts inherit the mask of the thread that
// opens it.
std::string cpu_placement();

}  // namespace spool
