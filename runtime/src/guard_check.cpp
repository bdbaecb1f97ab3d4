#include "guard_check.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "spool/backend/backend.hpp"

namespace spool {

namespace {

// Names of the arguments whose value refers to `buf` in some item.
std::string arguments_of(const Batch& batch, const backend::BufferImpl& buf) {
  const auto specs = batch.kernel().args();
  std::vector<bool> named(specs.size(), false);
  const std::uint64_t lo = buf.device_address(), hi = lo + buf.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::byte* block = batch.packed_args(i);
    for (std::size_t a = 0; a < specs.size(); ++a) {
      if (named[a]) continue;
      const ArgSpec& s = specs[a];
      if (s.kind == ArgKind::buffer) {
        std::uint64_t addr = 0;
        std::memcpy(&addr, block + s.offset, sizeof addr);
        named[a] = addr >= lo && addr < hi;
      } else if (s.kind == ArgKind::bound_buffer) {
        std::uint64_t rec = 0;
        std::memcpy(&rec, block + s.offset, sizeof rec);
        named[a] = rec == reinterpret_cast<std::uintptr_t>(&buf);
      }
    }
  }
  std::string out;
  for (std::size_t a = 0; a < specs.size(); ++a) {
    if (named[a]) out += (out.empty() ? "'" : ", '") + specs[a].name + "'";
  }
  return out.empty() ? "a buffer of the batch" : (out.find(',') == std::string::npos ? "argument " : "arguments ") + out;
}

std::string range(std::int64_t first, std::int64_t last) {
  return "[" + std::to_string(first) + ", " + std::to_string(last + 1) + ")";
}

}  // namespace

bool check_guards(const Batch& batch, Verdict& v) {
  bool ok = true;
  for (const auto& buf : batch.buffers()) {
    if (!buf || !buf->guarded()) continue;
    const backend::GuardDamage d = buf->check_guards();
    if (!d.any()) continue;
    ok = false;
    std::string s = "validation: kernel '" + v.kernel + "' (" + v.variant + ") wrote outside " +
                    arguments_of(batch, *buf) + " (a buffer of " + std::to_string(buf->size()) + " bytes): ";
    if (d.bytes_after != 0) s += std::to_string(d.bytes_after) + " guard bytes after its end changed";
    if (d.bytes_before != 0) {
      s += (d.bytes_after != 0 ? ", " : "") + std::to_string(d.bytes_before) + " guard bytes before its start changed";
    }
    s += ", within bytes " + range(d.first, d.last) + " of it";
    if (d.reached_edge) s += "; the writes reached the end of the guard space and may have gone further";
    s += ".";
    v.failure += (v.failure.empty() ? "" : " ") + s;
  }
  return ok;
}

}  // namespace spool
