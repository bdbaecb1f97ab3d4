// The one log sink of the library (spool/log.hpp).
#include "spool/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace spool {

namespace {

// The default handler: one write(2) per message, so lines from several
// threads never interleave.
void to_stderr(LogLevel level, std::string_view message) {
  std::string line = "spool: ";
  line += to_string(level);
  line += ": ";
  line += message;
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

struct Sink {
  std::mutex mu;
  std::shared_ptr<const LogHandler> handler;  // null: the default handler
};

Sink& sink() {
  static Sink* s = new Sink;  // never destroyed: messages may come from static destructors
  return *s;
}

constexpr int kNoOverride = -1;
std::atomic<int> g_override{kNoOverride};

}  // namespace

const char* to_string(LogLevel l) noexcept {
  switch (l) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warn";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view s) noexcept {
  for (LogLevel l : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
    if (s == to_string(l)) return l;
  }
  return std::nullopt;
}

LogHandler set_log_handler(LogHandler h) {
  auto next = h ? std::make_shared<const LogHandler>(std::move(h)) : nullptr;
  Sink& s = sink();
  std::lock_guard lk(s.mu);
  std::shared_ptr<const LogHandler> prev = std::exchange(s.handler, std::move(next));
  return prev ? *prev : LogHandler{};
}

LogLevel log_level() noexcept {
  const int o = g_override.load(std::memory_order_relaxed);
  if (o != kNoOverride) return static_cast<LogLevel>(o);
  const char* env = std::getenv("SPOOL_LOG");
  if (env == nullptr || *env == '\0') return LogLevel::warn;
  return parse_log_level(env).value_or(LogLevel::warn);
}

void set_log_level(LogLevel l) noexcept { g_override.store(static_cast<int>(l), std::memory_order_relaxed); }
void reset_log_level() noexcept { g_override.store(kNoOverride, std::memory_order_relaxed); }

bool log_enabled(LogLevel l) noexcept { return static_cast<int>(l) <= static_cast<int>(log_level()); }

void log(LogLevel level, std::string_view message) noexcept {
  if (!log_enabled(level)) return;
  std::shared_ptr<const LogHandler> h;
  {
    Sink& s = sink();
    std::lock_guard lk(s.mu);
    h = s.handler;
  }
  try {
    if (h) {
      (*h)(level, message);
    } else {
      to_stderr(level, message);
    }
  } catch (...) {
    // A handler must not throw; a diagnostic is never worth failing the caller.
  }
}

}  // namespace spool
