#include "autotune_access.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "device_access.hpp"

namespace spool::cli {

namespace fs = std::filesystem;

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

StoreSnapshot::StoreSnapshot(const std::string& path) {
  std::error_code ec;
  if (path.empty() || path == ":memory:" || !fs::exists(path, ec)) {
    store_ = autotune::Store::open(":memory:");
    return;
  }
  if (fs::is_directory(path, ec)) throw std::runtime_error("the store '" + path + "' is a directory");
  std::string tmpl = (fs::temp_directory_path() / "spool-store-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error(std::string("cannot create a temporary directory: ") + std::strerror(errno));
  }
  dir_ = tmpl;
  const fs::path copy = dir_ / "store.sqlite";
  fs::copy_file(path, copy, ec);
  if (ec) throw std::runtime_error("cannot read the store '" + path + "': " + ec.message());
  if (fs::exists(path + "-wal", ec)) fs::copy_file(path + "-wal", copy.string() + "-wal", ec);
  std::string warning;
  try {
    store_ = autotune::Store::open(copy.string(), &warning);
  } catch (const std::exception& e) {
    std::string m = e.what();
    replace_all(m, copy.string(), path);
    throw std::runtime_error(m + " (the file was left untouched)");
  }
  if (!warning.empty()) {
    // The copy was unreadable; the store moved the copy aside, not the file.
    const auto cut = warning.find("; it was");
    std::string m = warning.substr(0, cut);
    replace_all(m, copy.string(), path);
    throw std::runtime_error(m + "; read commands leave it untouched (`spool autotune clear --all` or any "
                                 "writing command moves it aside and starts a new store)");
  }
}

StoreSnapshot::~StoreSnapshot() {
  store_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::unique_ptr<autotune::Store> open_for_writing(const std::string& path) {
  std::string warning;
  auto store = autotune::Store::open(path, &warning);
  if (!warning.empty()) throw std::runtime_error(warning);
  return store;
}

CurrentState current_state(bool probe_devices) {
  CurrentState now;
  now.spool_version = std::string(autotune::spool_version());
  if (!probe_devices) return now;
  try {
    Runtime rt = quiet_runtime();
    for (std::size_t i = 0; i < rt.devices().size(); ++i) {
      const DeviceInfo& info = rt.devices()[i].info;
      const auto key = device_key(info);
      now.drivers[{key.backend, key.uuid, key.name}] = {key.driver_version, key.api_version};
      try {
        auto dev = rt.open(i);
        for (const auto& name : dev->builtin_kernels()) {
          now.hashes[{key.backend, name}] = dev->kernel(name).impl()->desc().source_hash;
        }
      } catch (const std::exception& e) {
        now.notes.push_back("kernel sources of " + info.name + " not checked: " + e.what());
      }
    }
  } catch (const std::exception& e) {
    now.notes.push_back(std::string("devices not checked: ") + e.what());
  }
  return now;
}

std::vector<std::string> stale_reasons(const CurrentState& now, const autotune::DeviceKey& d,
                                       const std::string& spool_version, const autotune::KernelKey* k) {
  std::vector<std::string> why;
  if (spool_version != now.spool_version) why.push_back("spool " + spool_version + " != " + now.spool_version);
  const auto dev = now.drivers.find({d.backend, d.uuid, d.name});
  if (dev != now.drivers.end()) {
    // Profiles of CPU devices are stored per CPU placement: "<driver> [<placement>]"
    // (runtime/src/device.cpp); any placement of the current driver is current.
    const std::string& now_driver = dev->second.first;
    const bool same_driver = d.driver_version == now_driver ||
                             d.driver_version.rfind(now_driver + " [", 0) == 0;
    if (!same_driver) why.push_back("driver " + d.driver_version + " != " + now_driver);
    if (d.api_version != dev->second.second) why.push_back("api " + d.api_version + " != " + dev->second.second);
  }
  if (k != nullptr) {
    const auto h = now.hashes.find({d.backend, k->kernel});
    if (h != now.hashes.end() && h->second != k->source_hash) {
      why.push_back("source " + k->source_hash + " != " + h->second);
    }
  }
  return why;
}

std::string stale_reason(const CurrentState& now, const autotune::DeviceKey& d, const std::string& spool_version,
                         const autotune::KernelKey* k) {
  return join(stale_reasons(now, d, spool_version, k));
}

std::string join(const std::vector<std::string>& reasons) {
  std::string s;
  for (const auto& r : reasons) s += (s.empty() ? "" : ", ") + r;
  return s;
}

std::vector<std::string> combine_stale(std::vector<std::string> ours, const std::string& stored) {
  std::string rest = stored;
  const std::string suffix = " (current)";
  if (rest.size() >= suffix.size() && rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) == 0) {
    rest.erase(rest.size() - suffix.size());
  }
  // The store joins "<field> <stored> != <current>" parts with ", "; split
  // only where a known field follows, so a value holding ", " stays whole.
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t at = rest.find(", "); !rest.empty(); at = rest.find(", ", at + 2)) {
    if (at == std::string::npos) {
      parts.push_back(rest.substr(start));
      break;
    }
    const std::string_view next = std::string_view(rest).substr(at + 2);
    bool field = false;
    for (const char* f : {"driver ", "api ", "spool ", "source hash "}) field = field || next.rfind(f, 0) == 0;
    if (field) {
      parts.push_back(rest.substr(start, at - start));
      start = at + 2;
    }
  }
  const std::size_t own = ours.size();
  for (std::string p : parts) {
    if (p.rfind("source hash ", 0) == 0) p.erase(6, 5);  // "source hash x" -> "source x", as ours
    if (std::find(ours.begin(), ours.begin() + static_cast<std::ptrdiff_t>(own), p) !=
        ours.begin() + static_cast<std::ptrdiff_t>(own)) {
      continue;
    }
    p += " (latest run)";
    if (std::find(ours.begin(), ours.end(), p) == ours.end()) ours.push_back(std::move(p));
  }
  return ours;
}

}  // namespace spool::cli
