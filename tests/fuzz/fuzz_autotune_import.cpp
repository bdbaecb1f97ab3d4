// libFuzzer: `spool autotune import` (Store::import_json) on arbitrary text.
// Properties: it either refuses with a spool::Error and leaves the store as
// it was, or imports rows that all respect the store's limits and survive an
// export/import round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "spool/autotune/store.hpp"

namespace at = spool::autotune;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Two stores for the whole run (opening one per input would dominate).
  static const std::unique_ptr<at::Store> store = at::Store::open(":memory:");
  static const std::unique_ptr<at::Store> again = at::Store::open(":memory:");
  static const std::string empty = store->export_json();
  store->clear();
  again->clear();
  try {
    store->import_json(text);
  } catch (const spool::Error&) {
    if (store->export_json() != empty) __builtin_trap();  // a refused import wrote something
    return 0;
  }
  for (const auto& r : store->list_profiles()) {
    if (!at::problem(r.profile).empty() || !at::problem(r.device, r.spool_version).empty()) __builtin_trap();
  }
  for (const auto& r : store->list_observations()) {
    if (!at::problem(r.observation).empty() || !at::problem(r.kernel, r.bucket, r.variant).empty()) __builtin_trap();
  }
  const std::string exported = store->export_json();
  again->import_json(exported);  // must not throw: it came from a store
  if (again->export_json() != exported) __builtin_trap();
  return 0;
}
