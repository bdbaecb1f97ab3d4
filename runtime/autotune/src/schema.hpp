// Schema of the autotune store and its migrations, private to spool::autotune.
#pragma once

#include "sqlite.hpp"

namespace spool::autotune::schema {

// The spool_version given to rows migrated from schema v1, which did not
// record it: such rows never match a live key, so they are reported stale.
inline constexpr const char* kV1SpoolVersion = "unknown (schema v1)";

// Creates the current schema in an empty database, or migrates an older one
// to Store::kSchemaVersion, in one BEGIN IMMEDIATE transaction (none when the
// schema is current). Throws Error for a database that has tables but is not
// a Spool store, or whose schema is newer than this library's.
void prepare(sql::Db& db);

// For a store opened read-only: throws Error unless it is a Spool store this
// library can read without migrating (schema 2 or 3).
void check_readable(sql::Db& db);

// Whether the current_keys table (schema 3) exists.
bool has_current_keys(sql::Db& db);

// Read-only: false for an empty database, true for a Spool store this library
// can use (possibly after migration); throws Error as prepare() does.
bool check_compatible(sql::Db& db);

// The version recorded in schema_version.
int version(sql::Db& db);

}  // namespace spool::autotune::schema
