// Small text helpers shared by the commands: aligned tables and units.
#pragma once

#include <cstdint>
#include <exception>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace spool::cli {

// Columns padded to their widest cell; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::size_t size() const noexcept { return rows_.size() - 1; }  // rows without the header
  void print(std::ostream& os, std::string_view indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "850 ns", "35.2 us", "12.3 ms", "1.25 s"; "-" for a negative value.
std::string duration(double ns);
// A number with `digits` decimals.
std::string fixed(double v, int digits);
// An exception's message for people: without the "spool: " prefix, and for
// a spool::Error without the " (file:line) {code}" it carries for programmers.
std::string for_people(const std::exception& e);

// "2024-05-01T12:00:00Z" (UTC); "-" for 0 or less.
std::string utc(std::int64_t unix_seconds);

}  // namespace spool::cli
