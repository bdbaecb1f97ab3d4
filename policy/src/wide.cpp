#include "spool/policy/wide.hpp"

namespace spool::policy {

std::size_t format_u128(u128 v, char* buf) noexcept {
  char tmp[40];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

}  // namespace spool::policy
