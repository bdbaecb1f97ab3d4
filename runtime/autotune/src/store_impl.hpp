// Store internals shared by the store's translation units.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "sqlite.hpp"

namespace spool::autotune {

struct Store::Impl {
  std::mutex mu;  // guards db and every statement in its cache
  std::unique_ptr<sql::Db> db;
  std::string path;     // ":memory:" or the file in use
  bool memory = true;
  bool read_only = false;
  bool current_keys = false;  // the current_keys table exists (schema 3)
  std::string version;  // Spool version in keys
};

namespace detail {

// Column lists, in bind order: ?1..?6 device key, ?7..?10 kernel key + bucket, ?11 variant.
#define SPOOL_AT_DEVICE_COLS "backend, uuid, device_name, driver_version, api_version, spool_version"
#define SPOOL_AT_DEVICE_WHERE                                                       \
  "backend = ?1 AND uuid = ?2 AND device_name = ?3 AND driver_version = ?4 AND " \
  "api_version = ?5 AND spool_version = ?6"
#define SPOOL_AT_KERNEL_COLS SPOOL_AT_DEVICE_COLS ", kernel, source_hash, log2_items, log2_grid"
#define SPOOL_AT_KERNEL_WHERE \
  SPOOL_AT_DEVICE_WHERE " AND kernel = ?7 AND source_hash = ?8 AND log2_items = ?9 AND log2_grid = ?10"

inline void bind_device(sql::Stmt& s, const DeviceKey& d, const std::string& version) {
  s.bind(1, d.backend).bind(2, d.uuid).bind(3, d.name).bind(4, d.driver_version);
  s.bind(5, d.api_version).bind(6, version);
}

inline void bind_kernel(sql::Stmt& s, const DeviceKey& d, const std::string& version,
                        const KernelKey& k, ShapeBucket b) {
  bind_device(s, d, version);
  s.bind(7, k.kernel).bind(8, k.source_hash);
  s.bind(9, static_cast<std::int64_t>(b.log2_items)).bind(10, static_cast<std::int64_t>(b.log2_grid));
}

// Reads SPOOL_AT_DEVICE_COLS starting at column `c`; returns the spool_version column.
inline std::string read_device(const sql::Stmt& s, int c, DeviceKey& d) {
  d.backend = s.text(c);
  d.uuid = s.text(c + 1);
  d.name = s.text(c + 2);
  d.driver_version = s.text(c + 3);
  d.api_version = s.text(c + 4);
  return s.text(c + 5);
}

std::int64_t now_unix() noexcept;

// "vulkan 'llvmpipe' driver 23.2.1 api 1.3.255 spool 0.1.0[, kernel saxpy (sha256:...)]"
std::string describe_row(const DeviceKey& d, const std::string& spool_version, const KernelKey* k);
// Throws Error(call, "<row>: <problem>", path, invalid_argument) unless problem is empty.
void check_value(const std::string& problem, const char* call, const std::string& row, const std::string& path);

// Unlocked listings (the caller holds impl.mu); kernel empty: all kernels.
std::vector<ProfileRow> list_profiles(Store::Impl& impl);
std::vector<ObservationRow> list_observations(Store::Impl& impl, const std::string& kernel);
std::vector<DecisionRow> list_winners(Store::Impl& impl, const std::string& kernel);
std::vector<DecisionRow> list_rejections(Store::Impl& impl, const std::string& kernel);

}  // namespace detail
}  // namespace spool::autotune
