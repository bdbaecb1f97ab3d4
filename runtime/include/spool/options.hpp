// Spool's SPOOL_* environment options, read from one table (runtime/src/options.cpp)
// by the core and by every backend.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace spool::options {

struct Option {
  const char* name;     // environment variable
  const char* fallback; // default value ("" = unset)
  const char* help;
};

// The table (also printed by `spool options`).
const Option* table(std::size_t* count) noexcept;

// The value of an option: the environment, else its default.
std::string get(const char* name);
std::optional<std::string> get_set(const char* name);  // only when set in the environment
// Integer value; throws spool::Error naming the variable when malformed.
std::uint64_t get_u64(const char* name);
// As get_u64, and at most 2^32 - 1.
std::uint32_t get_u32(const char* name);

}  // namespace spool::options
