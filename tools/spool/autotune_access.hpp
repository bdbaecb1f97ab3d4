// The autotune store as `spool autotune` sees it: read commands work on a
// snapshot so they never change the file (no migration, no corrupt-file
// rename, no creation), and every row can be judged stale against what this
// machine runs now.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "spool/autotune/store.hpp"

namespace spool::cli {

// A copy of the store file (and its WAL) in a private temporary directory,
// opened there and removed at scope exit. A missing file reads as empty.
class StoreSnapshot {
 public:
  explicit StoreSnapshot(const std::string& path);
  ~StoreSnapshot();
  StoreSnapshot(const StoreSnapshot&) = delete;
  StoreSnapshot& operator=(const StoreSnapshot&) = delete;
  autotune::Store& store() { return *store_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<autotune::Store> store_;
};

// Opens the store for a command that writes it. A file the store had to move
// aside (corrupt) is an error that says where it went.
std::unique_ptr<autotune::Store> open_for_writing(const std::string& path);

// What is current on this machine: this Spool's version, the drivers of the
// devices present and the source hashes of their built-in kernels.
struct CurrentState {
  std::string spool_version;
  using Identity = std::tuple<std::string, std::string, std::string>;  // backend, uuid, name
  std::map<Identity, std::pair<std::string, std::string>> drivers;    // -> driver, api
  std::map<std::pair<std::string, std::string>, std::string> hashes;  // (backend, kernel) -> hash
  std::vector<std::string> notes;  // what could not be checked, and why
};
// Without `probe_devices` only the Spool version is known (nothing to judge
// needs more: an empty store).
CurrentState current_state(bool probe_devices = true);

// Why a row is stale ("" when it is current, or cannot be judged): it was
// written by another Spool version, for a device present here with another
// driver or API version, or for a built-in kernel whose source changed.
std::string stale_reason(const CurrentState& now, const autotune::DeviceKey& d, const std::string& spool_version,
                         const autotune::KernelKey* k);
// The same judgement as separate reasons ("spool 0.1 != 0.2", "driver 1.2 != 1.3").
std::vector<std::string> stale_reasons(const CurrentState& now, const autotune::DeviceKey& d,
                                       const std::string& spool_version, const autotune::KernelKey* k);

// One list of reasons for a listed row: this machine's judgement (`ours`,
// from stale_reasons) and the store's (`stored`: the row's `stale` member,
// "source hash a != b, driver x != y (current)" when its key differs from
// the one the latest racing process recorded). A store reason that says the
// same as one of ours is dropped; the others are kept, written like ours
// ("source a != b") and marked " (latest run)".
std::vector<std::string> combine_stale(std::vector<std::string> ours, const std::string& stored);
// "a, b, c"; "" for none.
std::string join(const std::vector<std::string>& reasons);

}  // namespace spool::cli
