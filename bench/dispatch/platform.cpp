#include "platform.hpp"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "bench.hpp"

namespace bench {

namespace {

cpu_set_t allowed_set() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    throw Error(std::string("sched_getaffinity failed: ") + std::strerror(errno));
  }
  return set;
}

std::string format_list(const cpu_set_t& set) {
  std::string s;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) ++e;
    if (!s.empty()) s += ',';
    s += std::to_string(c);
    if (e > c) s += '-' + std::to_string(e);
    c = e;
  }
  return s.empty() ? "none" : s;
}

int parse_cpu(const std::string& list, const std::string& tok) {
  if (tok.empty() || tok.find_first_not_of("0123456789") != std::string::npos || tok.size() > 6) {
    throw Error("CPU list '" + list + "': '" + tok + "' is not a CPU number (expected e.g. 0, 0,2 or 0-3)");
  }
  const int c = std::atoi(tok.c_str());
  if (c >= CPU_SETSIZE) throw Error("CPU list '" + list + "': CPU " + tok + " is beyond CPU_SETSIZE");
  return c;
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& list) {
  std::vector<int> cpus;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto dash = part.find('-');
    const int lo = parse_cpu(list, part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : parse_cpu(list, part.substr(dash + 1));
    if (hi < lo) throw Error("CPU list '" + list + "': range " + part + " is empty");
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  if (cpus.empty()) throw Error("CPU list '" + list + "': no CPU given (expected e.g. 0, 0,2 or 0-3)");
  const cpu_set_t allowed = allowed_set();
  for (int c : cpus) {
    if (!CPU_ISSET(c, &allowed)) {
      throw Error("CPU list '" + list + "': CPU " + std::to_string(c) + " is not available to this process (allowed: " +
                  format_list(allowed) + ")");
    }
  }
  return cpus;
}

int pin_process(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  // Threads started before main() (none are expected, but a library may
  // start one) are pinned as well as the main thread.
  int pinned = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
      if (sched_setaffinity(tid, sizeof set, &set) != 0) {
        const int err = errno;
        closedir(d);
        throw Error("sched_setaffinity(thread " + std::to_string(tid) + ", CPUs " + format_list(set) +
                    ") failed: " + std::strerror(err));
      }
      ++pinned;
    }
    closedir(d);
  }
  if (pinned == 0) {
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      throw Error("sched_setaffinity(CPUs " + format_list(set) + ") failed: " + std::strerror(errno));
    }
    pinned = 1;
  }
  return pinned;
}

std::string affinity_list() { return format_list(allowed_set()); }

int cpus_online() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}

std::string now_string() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

}  // namespace bench
