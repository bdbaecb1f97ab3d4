#include "text.hpp"

#include "spool/error.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <ostream>
#include <sstream>

namespace spool::cli {

void Table::print(std::ostream& os, std::string_view indent) const {
  std::vector<std::size_t> width;
  for (const auto& r : rows_) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  for (const auto& r : rows_) {
    if (std::all_of(r.begin(), r.end(), [](const std::string& c) { return c.empty(); })) continue;
    std::string line(indent);
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(digits);
  os << v;
  return os.str();
}

std::string duration(double ns) {
  if (!(ns >= 0)) return "-";
  if (ns < 1e3) return fixed(ns, ns < 10 ? 2 : 0) + " ns";
  if (ns < 1e6) return fixed(ns / 1e3, ns < 1e4 ? 2 : 1) + " us";
  if (ns < 1e9) return fixed(ns / 1e6, ns < 1e7 ? 2 : 1) + " ms";
  return fixed(ns / 1e9, 2) + " s";
}

std::string for_people(const std::exception& e) {
  std::string m = e.what();
  if (m.rfind("spool: ", 0) == 0) m.erase(0, 7);
  if (dynamic_cast<const Error*>(&e) != nullptr) {
    if (!m.empty() && m.back() == '}') m.erase(std::min(m.size(), m.rfind(" {")));
    if (!m.empty() && m.back() == ')') m.erase(std::min(m.size(), m.rfind(" (")));
  }
  return m;
}

std::string utc(std::int64_t unix_seconds) {
  if (unix_seconds <= 0) return "-";
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace spool::cli
