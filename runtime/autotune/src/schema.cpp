#include "schema.hpp"

#include <string>

namespace spool::autotune::schema {
namespace {

// Schema v2 (current). Every row is keyed by the device identity, driver, API
// and Spool versions; kernel rows add kernel name, source hash, shape bucket
// and (observations, rejections) the variant.
constexpr const char* kCreateV2 = R"sql(
CREATE TABLE launch_profiles (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL, spool_version TEXT NOT NULL,
  launch_ns REAL NOT NULL, record_setup_ns REAL NOT NULL, replay_ns REAL NOT NULL,
  persistent_setup_ns REAL NOT NULL, queue_item_ns REAL NOT NULL,
  samples INTEGER NOT NULL, measured_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, spool_version)
) WITHOUT ROWID;
CREATE TABLE observations (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL, spool_version TEXT NOT NULL,
  kernel TEXT NOT NULL, source_hash TEXT NOT NULL,
  log2_items INTEGER NOT NULL, log2_grid INTEGER NOT NULL, variant TEXT NOT NULL,
  count INTEGER NOT NULL, mean_ns REAL NOT NULL, m2 REAL NOT NULL,
  updated_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, spool_version,
               kernel, source_hash, log2_items, log2_grid, variant)
) WITHOUT ROWID;
CREATE TABLE winners (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL, spool_version TEXT NOT NULL,
  kernel TEXT NOT NULL, source_hash TEXT NOT NULL,
  log2_items INTEGER NOT NULL, log2_grid INTEGER NOT NULL, variant TEXT NOT NULL,
  decided_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, spool_version,
               kernel, source_hash, log2_items, log2_grid)
) WITHOUT ROWID;
CREATE TABLE rejections (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL, spool_version TEXT NOT NULL,
  kernel TEXT NOT NULL, source_hash TEXT NOT NULL,
  log2_items INTEGER NOT NULL, log2_grid INTEGER NOT NULL, variant TEXT NOT NULL,
  rejected_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, driver_version, api_version, spool_version,
               kernel, source_hash, log2_items, log2_grid, variant)
) WITHOUT ROWID;
CREATE INDEX observations_by_identity ON observations(backend, uuid, device_name, kernel);
CREATE INDEX winners_by_identity ON winners(backend, uuid, device_name, kernel);
CREATE INDEX rejections_by_identity ON rejections(backend, uuid, device_name, kernel);
)sql";

// Schema v3 adds current_keys: per device identity (kernel = '') and per
// kernel of it, the key the latest process used -- what `spool autotune list`
// compares rows with to mark them stale. Written by Store::record_current().
constexpr const char* kCreateV3Additions = R"sql(
CREATE TABLE current_keys (
  backend TEXT NOT NULL, uuid TEXT NOT NULL, device_name TEXT NOT NULL, kernel TEXT NOT NULL,
  driver_version TEXT NOT NULL, api_version TEXT NOT NULL, spool_version TEXT NOT NULL,
  source_hash TEXT NOT NULL, seen_at_unix INTEGER NOT NULL,
  PRIMARY KEY (backend, uuid, device_name, kernel)
) WITHOUT ROWID;
)sql";

void migrate_v2_to_v3(sql::Db& db) {
  db.exec(kCreateV3Additions, "migrate v2->v3: create current_keys");
  db.exec("UPDATE schema_version SET version = 3;", "migrate v2->v3: version");
}

// Schema v1 (Spool 0.0.x) had the same four tables without the spool_version
// column, and observations without m2 (no variance):
//   observations(backend, uuid, device_name, driver_version, api_version, kernel,
//                source_hash, log2_items, log2_grid, variant, count, mean_ns,
//                updated_at_unix)
// v1 -> v2 moves the v1 tables aside, creates v2, copies every row with
// spool_version = kV1SpoolVersion and m2 = 0, and drops the v1 tables.
void migrate_v1_to_v2(sql::Db& db) {
  db.exec(R"sql(
ALTER TABLE launch_profiles RENAME TO v1_launch_profiles;
ALTER TABLE observations RENAME TO v1_observations;
ALTER TABLE winners RENAME TO v1_winners;
ALTER TABLE rejections RENAME TO v1_rejections;
)sql",
          "migrate v1->v2: rename v1 tables");
  db.exec(kCreateV2, "migrate v1->v2: create v2 tables");
  const std::string v = std::string("'") + kV1SpoolVersion + "'";
  const std::string copy =
      "INSERT INTO launch_profiles SELECT backend, uuid, device_name, driver_version, "
      "api_version, " + v + ", launch_ns, record_setup_ns, replay_ns, persistent_setup_ns, "
      "queue_item_ns, samples, measured_at_unix FROM v1_launch_profiles;"
      "INSERT INTO observations SELECT backend, uuid, device_name, driver_version, "
      "api_version, " + v + ", kernel, source_hash, log2_items, log2_grid, variant, count, "
      "mean_ns, 0.0, updated_at_unix FROM v1_observations;"
      "INSERT INTO winners SELECT backend, uuid, device_name, driver_version, api_version, " +
      v + ", kernel, source_hash, log2_items, log2_grid, variant, decided_at_unix "
      "FROM v1_winners;"
      "INSERT INTO rejections SELECT backend, uuid, device_name, driver_version, api_version, " +
      v + ", kernel, source_hash, log2_items, log2_grid, variant, rejected_at_unix "
      "FROM v1_rejections;"
      "DROP TABLE v1_launch_profiles; DROP TABLE v1_observations; DROP TABLE v1_winners;"
      "DROP TABLE v1_rejections;"
      "UPDATE schema_version SET version = 2;";
  db.exec(copy.c_str(), "migrate v1->v2: copy rows");
}

// Whether schema_version exists, and how many user tables there are: one
// statement, so one consistent snapshot even while another process creates
// the schema.
struct Tables {
  bool has_schema_version = false;
  std::int64_t user_tables = 0;
};

Tables tables(sql::Db& db) {
  sql::Use s(db.stmt(
      "SELECT count(*) FILTER (WHERE name = 'schema_version'), count(*) FROM sqlite_master "
      "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"));
  s->step();
  return Tables{s->int64(0) != 0, s->int64(1)};
}

}  // namespace

int version(sql::Db& db) {
  sql::Use s(db.stmt("SELECT version, (SELECT count(*) FROM schema_version) FROM schema_version"));
  if (!s->step() || s->int64(1) != 1) {
    throw Error("schema_version", "the schema_version table must hold exactly one row",
                db.path());
  }
  return static_cast<int>(s->int64(0));
}

bool check_compatible(sql::Db& db) {
  const Tables t = tables(db);
  if (!t.has_schema_version) {
    if (t.user_tables != 0) {
      throw Error("open",
                  "this SQLite database is not a Spool autotune store (it has tables but no "
                  "schema_version table); it was left untouched",
                  db.path(), Errc::not_supported);
    }
    return false;
  }
  const int v = version(db);
  if (v > Store::kSchemaVersion) {
    throw Error("open",
                "the store has schema version " + std::to_string(v) +
                    ", newer than this Spool's (" + std::to_string(Store::kSchemaVersion) +
                    "); it was left untouched",
                db.path(), Errc::not_supported);
  }
  if (v < 1) throw Error("open", "invalid schema version " + std::to_string(v), db.path());
  return true;
}

bool up_to_date(sql::Db& db) { return check_compatible(db) && version(db) == Store::kSchemaVersion; }

void prepare(sql::Db& db) {
  // Most opens find the current schema: check that in a read transaction,
  // so that opening a store in use by a writer does not wait for it.
  {
    sql::Txn read(db, "BEGIN");
    const bool ok = up_to_date(db);
    read.commit();
    if (ok) return;
  }
  sql::Txn txn(db);
  if (!check_compatible(db)) {
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
            "INSERT INTO schema_version (version) VALUES (3);",
            "create schema_version");
    db.exec(kCreateV2, "create schema v3");
    db.exec(kCreateV3Additions, "create schema v3 (current_keys)");
  } else {
    if (version(db) == 1) migrate_v1_to_v2(db);
    if (version(db) == 2) migrate_v2_to_v3(db);
  }
  txn.commit();
}

void check_readable(sql::Db& db) {
  if (!check_compatible(db)) {
    throw Error("open", "the file is not a Spool autotune store (it is empty); opened read-only, it was not created",
                db.path(), Errc::not_supported);
  }
  if (version(db) < 2) {
    throw Error("open",
                "the store has schema version " + std::to_string(version(db)) +
                    ", which needs a migration: open it once writable (e.g. `spool autotune list` with write "
                    "access) before using it read-only",
                db.path(), Errc::not_supported);
  }
}

bool has_current_keys(sql::Db& db) {
  sql::Use s(db.stmt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'current_keys'"));
  s->step();
  return s->int64(0) != 0;
}

}  // namespace spool::autotune::schema
