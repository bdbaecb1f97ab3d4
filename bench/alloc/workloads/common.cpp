#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../workload.hpp"

namespace spool::bench {

namespace {
constexpr std::uint64_t kCookie = 0xbf58476d1ce4e5b9ULL;
}

void fill_pattern(void* p, std::size_t n) {
  auto* w = static_cast<std::uint64_t*>(p);
  const std::uint64_t base = reinterpret_cast<std::uintptr_t>(p) ^ kCookie;
  for (std::size_t i = 0; i < n / 8; ++i) w[i] = base ^ i;
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = n / 8 * 8; i < n; ++i) b[i] = static_cast<unsigned char>(base + i);
}

bool check_pattern(const void* p, std::size_t n) {
  const auto* w = static_cast<const std::uint64_t*>(p);
  const std::uint64_t base = reinterpret_cast<std::uintptr_t>(p) ^ kCookie;
  for (std::size_t i = 0; i < n / 8; ++i) {
    if (w[i] != (base ^ i)) return false;
  }
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = n / 8 * 8; i < n; ++i) {
    if (b[i] != static_cast<unsigned char>(base + i)) return false;
  }
  return true;
}

std::uint64_t peak_rss_kib() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096] = {};
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  const char* hwm = std::strstr(buf, "VmHWM:");
  unsigned long long kib = 0;
  if (hwm == nullptr || std::sscanf(hwm, "VmHWM: %llu", &kib) != 1) return 0;
  return kib;
}

std::uint64_t rss_kib_now() {
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128] = {};
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

}  // namespace spool::bench
