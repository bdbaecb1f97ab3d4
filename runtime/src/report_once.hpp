// Warnings said once per process (stale autotune rows: once per store and
// device, once per store, device and kernel), not once per open or batch.
#pragma once

#include <mutex>
#include <set>
#include <string>

namespace spool::detail {

// True the first time `id` is passed in this process; thread-safe.
inline bool first_report(const std::string& id) {
  static std::mutex mu;
  static std::set<std::string> seen;
  std::lock_guard lk(mu);
  return seen.insert(id).second;
}

}  // namespace spool::detail
