// The key under which the runtime keeps a device's rows in the autotune
// store, for the end-to-end tests that read or plant rows themselves.
#pragma once

#include "spool/autotune/store.hpp"
#include "spool/spool.hpp"

namespace spool::test {

inline autotune::DeviceKey key_of(const Device& d) {
  const auto& i = d.info();
  return {to_string(i.backend), i.uuid, i.name, i.driver_version, i.api_version};
}

}  // namespace spool::test
