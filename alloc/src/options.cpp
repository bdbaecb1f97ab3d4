// The option table: one row per Option, read lazily from the environment.
// getenv is safe before main and inside malloc; nothing here allocates.
#include "spool/alloc/options.hpp"

#include <atomic>
#include <cstdlib>

namespace spool::alloc {
namespace {

struct OptionRow {
  const char* name;
  long default_value;
};

constexpr OptionRow kRows[] = {
    {"SPOOL_ALLOC_LEARNER", 1},          {"SPOOL_ALLOC_REFILL", 0},
    {"SPOOL_ALLOC_LEARN_TARGET_US", 200}, {"SPOOL_ALLOC_LEARN_PERIOD_US", 5000},
    {"SPOOL_ALLOC_MAX_BATCH_KIB", 256},  {"SPOOL_ALLOC_CACHE_KIB", 256},
    {"SPOOL_ALLOC_PRINT_STATS", 0},      {"SPOOL_ALLOC_RETAIN_KIB", 16384},
    {"SPOOL_ALLOC_DECAY_MS", 1000},
};
constexpr unsigned kCount = static_cast<unsigned>(Option::count_);
static_assert(sizeof(kRows) / sizeof(kRows[0]) == kCount);

constinit std::atomic<long> g_values[kCount];
constinit std::atomic<bool> g_loaded[kCount];

long parse(const char* s, long fallback) noexcept {
  if (s == nullptr || *s == '\0') return fallback;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  return (end != nullptr && *end == '\0') ? v : fallback;
}

}  // namespace

long option(Option o) noexcept {
  const auto i = static_cast<unsigned>(o);
  if (i >= kCount) return 0;
  if (!g_loaded[i].load(std::memory_order_acquire)) {
    g_values[i].store(parse(std::getenv(kRows[i].name), kRows[i].default_value),
                      std::memory_order_relaxed);
    g_loaded[i].store(true, std::memory_order_release);
  }
  return g_values[i].load(std::memory_order_relaxed);
}

void set_option(Option o, long value) noexcept {
  const auto i = static_cast<unsigned>(o);
  if (i >= kCount) return;
  g_values[i].store(value, std::memory_order_relaxed);
  g_loaded[i].store(true, std::memory_order_release);
}

const char* option_name(Option o) noexcept {
  const auto i = static_cast<unsigned>(o);
  return i < kCount ? kRows[i].name : "?";
}

}  // namespace spool::alloc
