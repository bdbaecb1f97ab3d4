// Store::erase: deleting named rows (scoped clear and prune of `spool autotune`).
#include <sqlite3.h>

#include "sqlite.hpp"
#include "store_impl.hpp"

namespace spool::autotune {

namespace {

std::size_t changed(sql::Db& db) { return static_cast<std::size_t>(sqlite3_changes(db.raw())); }

// Observations and decisions share the kernel key plus the variant.
template <class Row>
std::size_t erase_variant_rows(sql::Db& db, const char* sql, const std::vector<Row>& rows) {
  std::size_t n = 0;
  for (const auto& r : rows) {
    sql::Use s(db.stmt(sql));
    detail::bind_kernel(*s, r.device, r.spool_version, r.kernel, r.bucket);
    s->bind(11, r.variant);
    s->run();
    n += changed(db);
  }
  return n;
}

}  // namespace

std::size_t Store::erase(const RowSet& rows) {
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  std::size_t n = 0;
  for (const auto& r : rows.profiles) {
    sql::Use s(db.stmt("DELETE FROM launch_profiles WHERE " SPOOL_AT_DEVICE_WHERE));
    detail::bind_device(*s, r.device, r.spool_version);
    s->run();
    n += changed(db);
  }
  n += erase_variant_rows(db, "DELETE FROM observations WHERE " SPOOL_AT_KERNEL_WHERE " AND variant = ?11",
                         rows.observations);
  n += erase_variant_rows(db, "DELETE FROM winners WHERE " SPOOL_AT_KERNEL_WHERE " AND variant = ?11",
                       rows.winners);
  n += erase_variant_rows(db, "DELETE FROM rejections WHERE " SPOOL_AT_KERNEL_WHERE " AND variant = ?11",
                       rows.rejections);
  txn.commit();
  return n;
}

}  // namespace spool::autotune
