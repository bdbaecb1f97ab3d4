// The option table: one row per Option, read lazily from the environment.
// getenv is safe before main and inside malloc; nothing here allocates. A
// value that is not an integer in the row's range is reported on stderr (one
// line, once) and replaced by the default.
#include "spool/alloc/options.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "option_fast.hpp"

namespace spool::alloc {
namespace {

struct OptionRow {
  const char* name;
  long default_value;
  long min;
  long max;
};

constexpr OptionRow kRows[] = {
    {"SPOOL_ALLOC_LEARNER", 1, 0, 1},
    {"SPOOL_ALLOC_REFILL", 0, 0, 65535},
    {"SPOOL_ALLOC_LEARN_PERIOD_US", 5000, 100, 10'000'000},
    {"SPOOL_ALLOC_MAX_BATCH_KIB", 256, 1, 1 << 20},
    {"SPOOL_ALLOC_CACHE_KIB", 256, 1, 1 << 20},
    {"SPOOL_ALLOC_PRINT_STATS", 0, 0, 1},
    {"SPOOL_ALLOC_RETAIN_KIB", 16384, 0, 1L << 30},
    {"SPOOL_ALLOC_DECAY_MS", 250, 0, 86'400'000},
};
constexpr unsigned kCount = detail::kOptionCount;
static_assert(sizeof(kRows) / sizeof(kRows[0]) == kCount);

// Writes one line to stderr without allocating (this runs inside malloc).
void warn_invalid(const OptionRow& row, const char* text) noexcept {
  char buf[256];
  const int n = std::snprintf(buf, sizeof buf,
                              "spool alloc: %s='%.40s' is not an integer in [%ld, %ld]; using %ld\n",
                              row.name, text, row.min, row.max, row.default_value);
  if (n > 0) {
    [[maybe_unused]] const ssize_t w =
        write(2, buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
  }
}

long parse(const OptionRow& row) noexcept {
  const char* s = std::getenv(row.name);
  if (s == nullptr || *s == '\0') return row.default_value;
  const int saved = errno;  // malloc must not change errno when it succeeds
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0' || v < row.min || v > row.max) {
    warn_invalid(row, s);
    v = row.default_value;
  }
  errno = saved;
  return v;
}

}  // namespace

namespace detail {
constinit std::atomic<long> g_option_values[kOptionCount];
constinit std::atomic<bool> g_option_loaded[kOptionCount];
}  // namespace detail

long option(Option o) noexcept {
  const auto i = static_cast<unsigned>(o);
  if (i >= kCount) return 0;
  if (!detail::g_option_loaded[i].load(std::memory_order_acquire)) {
    detail::g_option_values[i].store(parse(kRows[i]), std::memory_order_relaxed);
    detail::g_option_loaded[i].store(true, std::memory_order_release);
  }
  return detail::g_option_values[i].load(std::memory_order_relaxed);
}

void set_option(Option o, long value) noexcept {
  const auto i = static_cast<unsigned>(o);
  if (i >= kCount) return;
  detail::g_option_values[i].store(value, std::memory_order_relaxed);
  detail::g_option_loaded[i].store(true, std::memory_order_release);
}

const char* option_name(Option o) noexcept {
  const auto i = static_cast<unsigned>(o);
  return i < kCount ? kRows[i].name : "?";
}

}  // namespace spool::alloc
