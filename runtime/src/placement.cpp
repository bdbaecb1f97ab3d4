#include "placement.hpp"

#include <sched.h>
#include <unistd.h>

namespace spool {

std::string cpu_placement() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &set)) continue;
      int last = c;
      while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
      if (!cpus.empty()) cpus += ",";
      cpus += std::to_string(c);
      if (last > c) cpus += "-" + std::to_string(last);
      c = last;
    }
  }
  if (cpus.empty()) cpus = "?";
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return "cpus " + cpus + " of " + (online > 0 ? std::to_string(online) : std::string("?"));
}

}  // namespace spool
