// Stale-entry reports and full-row listings.
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "sqlite.hpp"
#include "store_impl.hpp"

namespace spool::autotune {

namespace {

// "driver 1.2 != 1.3, source hash a != b": stored value != current value.
std::string differences(const sql::Stmt& s, const DeviceKey& d, const std::string& version,
                        const KernelKey* k) {
  std::string out;
  const auto add = [&out](const char* what, const std::string& stored, const std::string& now) {
    if (stored == now) return;
    if (!out.empty()) out += ", ";
    out += std::string(what) + " " + stored + " != " + now;
  };
  add("driver", s.text(0), d.driver_version);
  add("api", s.text(1), d.api_version);
  add("spool", s.text(2), version);
  if (k != nullptr) add("source hash", s.text(3), k->source_hash);
  return out;
}

constexpr const char* kStaleProfiles =
    "SELECT driver_version, api_version, spool_version, count(*) FROM launch_profiles "
    "WHERE backend = ?1 AND uuid = ?2 AND device_name = ?3 AND NOT (driver_version = ?4 AND "
    "api_version = ?5 AND spool_version = ?6) GROUP BY 1, 2, 3";

#define SPOOL_AT_STALE_KERNEL(table)                                                          \
  "SELECT driver_version, api_version, spool_version, source_hash, count(*) FROM " table     \
  " WHERE backend = ?1 AND uuid = ?2 AND device_name = ?3 AND kernel = ?7 AND NOT ("        \
  "driver_version = ?4 AND api_version = ?5 AND spool_version = ?6 AND source_hash = ?8) " \
  "GROUP BY 1, 2, 3, 4"

std::uint64_t stale_rows(sql::Db& db, const char* sql, const DeviceKey& d,
                         const std::string& version, const KernelKey& k,
                         std::set<std::string>& reasons) {
  sql::Use s(db.stmt(sql));
  detail::bind_device(*s, d, version);
  s->bind(7, k.kernel).bind(8, k.source_hash);
  std::uint64_t n = 0;
  while (s->step()) {
    n += static_cast<std::uint64_t>(s->int64(4));
    reasons.insert(differences(*s, d, version, &k) + " for " + k.kernel);
  }
  return n;
}

ObservationRow read_observation_row(const sql::Stmt& s) {
  ObservationRow r;
  r.spool_version = detail::read_device(s, 0, r.device);
  r.kernel.kernel = s.text(6);
  r.kernel.source_hash = s.text(7);
  r.bucket.log2_items = static_cast<std::uint8_t>(s.int64(8));
  r.bucket.log2_grid = static_cast<std::uint8_t>(s.int64(9));
  r.variant = s.text(10);
  r.observation.count = static_cast<std::uint64_t>(s.int64(11));
  r.observation.mean_ns = s.real(12);
  r.observation.m2 = s.real(13);
  r.updated_at_unix = s.int64(14);
  return r;
}

DecisionRow read_decision_row(const sql::Stmt& s) {
  DecisionRow r;
  r.spool_version = detail::read_device(s, 0, r.device);
  r.kernel.kernel = s.text(6);
  r.kernel.source_hash = s.text(7);
  r.bucket.log2_items = static_cast<std::uint8_t>(s.int64(8));
  r.bucket.log2_grid = static_cast<std::uint8_t>(s.int64(9));
  r.variant = s.text(10);
  r.at_unix = s.int64(11);
  return r;
}

// All rows of a kernel table (?1 = kernel, "" for all), in key order.
#define SPOOL_AT_LIST(cols, table)                                                  \
  "SELECT " SPOOL_AT_KERNEL_COLS ", " cols " FROM " table " WHERE ?1 = '' OR kernel = ?1 " \
  "ORDER BY kernel, source_hash, backend, uuid, device_name, driver_version, api_version, " \
  "spool_version, log2_items, log2_grid, variant"

// current_keys, by (backend, uuid, device name, kernel or "").
struct Current {
  std::string driver, api, spool, hash;
};
using CurrentMap = std::map<std::tuple<std::string, std::string, std::string, std::string>, Current>;

CurrentMap load_current(Store::Impl& impl) {
  CurrentMap m;
  if (!impl.current_keys) return m;
  sql::Use s(impl.db->stmt("SELECT backend, uuid, device_name, kernel, driver_version, api_version, "
                           "spool_version, source_hash FROM current_keys"));
  while (s->step()) {
    m[{s->text(0), s->text(1), s->text(2), s->text(3)}] = Current{s->text(4), s->text(5), s->text(6), s->text(7)};
  }
  return m;
}

// Why a row's key differs from the current one ("" when it does not, or
// when nothing is known about this device / kernel).
std::string stale_reason(const CurrentMap& m, const DeviceKey& d, const std::string& spool, const KernelKey* k) {
  // Kernel rows against their kernel's entry, profiles against the device's.
  const auto it = m.find({d.backend, d.uuid, d.name, k != nullptr ? k->kernel : std::string()});
  if (it == m.end()) return {};
  const bool kernel_known = k != nullptr;
  const Current& c = it->second;
  std::string out;
  const auto add = [&out](const char* what, const std::string& stored, const std::string& now) {
    if (stored == now) return;
    if (!out.empty()) out += ", ";
    out += std::string(what) + " " + stored + " != " + now;
  };
  add("driver", d.driver_version, c.driver);
  add("api", d.api_version, c.api);
  add("spool", spool, c.spool);
  if (kernel_known) add("source hash", k->source_hash, c.hash);
  return out.empty() ? out : out + " (current)";
}

template <class Row, class Read>
std::vector<Row> list_rows(Store::Impl& impl, const char* sql, const std::string& kernel, Read read) {
  const CurrentMap current = load_current(impl);
  sql::Use s(impl.db->stmt(sql));
  s->bind(1, kernel);
  std::vector<Row> rows;
  while (s->step()) {
    Row r = read(*s);
    r.stale = stale_reason(current, r.device, r.spool_version, &r.kernel);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

StaleReport Store::stale(const DeviceKey& d, const KernelKey& k) {
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  StaleReport rep;
  std::set<std::string> reasons;
  {
    sql::Use s(db.stmt(kStaleProfiles));
    detail::bind_device(*s, d, impl_->version);
    while (s->step()) {
      rep.stale_profiles += static_cast<std::uint64_t>(s->int64(3));
      reasons.insert(differences(*s, d, impl_->version, nullptr) + " for the launch profile of " +
                     d.name);
    }
  }
  rep.stale_observations =
      stale_rows(db, SPOOL_AT_STALE_KERNEL("observations"), d, impl_->version, k, reasons);
  rep.stale_winners =
      stale_rows(db, SPOOL_AT_STALE_KERNEL("winners"), d, impl_->version, k, reasons);
  rep.stale_rejections =
      stale_rows(db, SPOOL_AT_STALE_KERNEL("rejections"), d, impl_->version, k, reasons);
  rep.reasons.assign(reasons.begin(), reasons.end());
  return rep;
}

namespace detail {

std::vector<ProfileRow> list_profiles(Store::Impl& impl) {
  const CurrentMap current = load_current(impl);
  sql::Use s(impl.db->stmt(
      "SELECT " SPOOL_AT_DEVICE_COLS ", launch_ns, record_setup_ns, replay_ns, "
      "persistent_setup_ns, queue_item_ns, samples, measured_at_unix FROM launch_profiles "
      "ORDER BY backend, uuid, device_name, driver_version, api_version, spool_version"));
  std::vector<ProfileRow> rows;
  while (s->step()) {
    ProfileRow r;
    r.spool_version = read_device(*s, 0, r.device);
    r.profile.launch_ns = s->real(6);
    r.profile.record_setup_ns = s->real(7);
    r.profile.replay_ns = s->real(8);
    r.profile.persistent_setup_ns = s->real(9);
    r.profile.queue_item_ns = s->real(10);
    r.profile.samples = static_cast<std::uint64_t>(s->int64(11));
    r.profile.measured_at_unix = s->int64(12);
    r.stale = stale_reason(current, r.device, r.spool_version, nullptr);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<ObservationRow> list_observations(Store::Impl& impl, const std::string& kernel) {
  return list_rows<ObservationRow>(
      impl, SPOOL_AT_LIST("variant, count, mean_ns, m2, updated_at_unix", "observations"),
      kernel, read_observation_row);
}

std::vector<DecisionRow> list_winners(Store::Impl& impl, const std::string& kernel) {
  return list_rows<DecisionRow>(impl, SPOOL_AT_LIST("variant, decided_at_unix", "winners"),
                                kernel, read_decision_row);
}

std::vector<DecisionRow> list_rejections(Store::Impl& impl, const std::string& kernel) {
  return list_rows<DecisionRow>(impl,
                                SPOOL_AT_LIST("variant, rejected_at_unix", "rejections"), kernel,
                                read_decision_row);
}

}  // namespace detail

std::vector<ProfileRow> Store::list_profiles() {
  std::lock_guard lock(impl_->mu);
  return detail::list_profiles(*impl_);
}

std::vector<ObservationRow> Store::list_observations(const std::string& kernel) {
  std::lock_guard lock(impl_->mu);
  return detail::list_observations(*impl_, kernel);
}

std::vector<DecisionRow> Store::list_winners(const std::string& kernel) {
  std::lock_guard lock(impl_->mu);
  return detail::list_winners(*impl_, kernel);
}

std::vector<DecisionRow> Store::list_rejections(const std::string& kernel) {
  std::lock_guard lock(impl_->mu);
  return detail::list_rejections(*impl_, kernel);
}

}  // namespace spool::autotune
