// Keys, buckets, statistics, errors and the default store path.
#include <pwd.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "sqlite.hpp"
#include "store_impl.hpp"

#ifndef SPOOL_VERSION_STRING
#error "SPOOL_VERSION_STRING must be defined by the build (CMake PROJECT_VERSION)"
#endif

namespace spool::autotune {

std::string_view spool_version() noexcept { return SPOOL_VERSION_STRING; }

namespace {
std::uint8_t floor_log2(std::uint64_t v) noexcept {
  return v == 0 ? std::uint8_t{0} : static_cast<std::uint8_t>(std::bit_width(v) - 1);
}

std::string describe(const std::string& call, const std::string& detail, const std::string& path) {
  std::string s = "spool autotune: " + call + ": " + detail;
  if (!path.empty()) s += " (store: " + path + ")";
  return s;
}
}  // namespace

ShapeBucket bucket_for(std::uint64_t items, std::uint64_t grid) noexcept {
  return ShapeBucket{floor_log2(items), floor_log2(grid)};
}

double Observation::variance() const noexcept {
  return count < 2 ? 0.0 : m2 / static_cast<double>(count - 1);
}

std::string_view to_string(VariantState s) noexcept {
  switch (s) {
    case VariantState::candidate: return "candidate";
    case VariantState::racing: return "racing";
    case VariantState::winner: return "winner";
    case VariantState::rejected: return "rejected";
  }
  return "unknown";
}

namespace {
std::string sqlite_detail(int code, const std::string& message) {
  return std::string(sql::code_name(code)) + " (extended code " + std::to_string(code) + ", " +
         sqlite3_errstr(code) + "): " + message;
}
}  // namespace

namespace {
Errc errc_of(int sqlite_code) noexcept {
  const int primary = sqlite_code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? Errc::timeout : Errc::storage;
}
}  // namespace

Error::Error(std::string call, int code, const std::string& sqlite_message, std::string path)
    : spool::Error(Composed{}, errc_of(code), describe(call, sqlite_detail(code, sqlite_message), path),
                   call, sql::code_name(code)),
      detail_(sqlite_detail(code, sqlite_message)),
      path_(std::move(path)),
      sqlite_code_(code) {}

Error::Error(std::string call, const std::string& message, std::string path, Errc kind)
    : spool::Error(Composed{}, kind, describe(call, message, path), call),
      detail_(message),
      path_(std::move(path)) {}

std::string Store::default_path() {
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
  };
  if (std::string p = env("SPOOL_AUTOTUNE_DB"); !p.empty()) return p;
  // The XDG base directory spec ignores relative values.
  if (std::string x = env("XDG_CACHE_HOME"); !x.empty() && x.front() == '/') {
    return x + "/spool/autotune.sqlite";
  }
  std::string home = env("HOME");
  if (home.empty()) {
    long n = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(n > 0 ? static_cast<std::size_t>(n) : std::size_t{16384});
    passwd pw{};
    passwd* res = nullptr;
    if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &res) == 0 && res != nullptr &&
        res->pw_dir != nullptr) {
      home = res->pw_dir;
    }
  }
  if (home.empty()) return ":memory:";
  return home + "/.cache/spool/autotune.sqlite";
}

namespace detail {
std::int64_t now_unix() noexcept { return static_cast<std::int64_t>(std::time(nullptr)); }
}  // namespace detail

}  // namespace spool::autotune
