#include "sqlite.hpp"

#include <limits>

namespace spool::autotune::sql {

const char* code_name(int code) noexcept {
  switch (code & 0xff) {
    case SQLITE_OK: return "SQLITE_OK";
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_NOTFOUND: return "SQLITE_NOTFOUND";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_PROTOCOL: return "SQLITE_PROTOCOL";
    case SQLITE_EMPTY: return "SQLITE_EMPTY";
    case SQLITE_SCHEMA: return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_NOLFS: return "SQLITE_NOLFS";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_FORMAT: return "SQLITE_FORMAT";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    case SQLITE_NOTICE: return "SQLITE_NOTICE";
    case SQLITE_WARNING: return "SQLITE_WARNING";
    case SQLITE_ROW: return "SQLITE_ROW";
    case SQLITE_DONE: return "SQLITE_DONE";
    default: return "SQLITE_UNKNOWN";
  }
}

Db::Db(const std::string& path, int flags, std::string shown) : path_(shown.empty() ? path : std::move(shown)) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 returns a handle even on failure (except out of memory).
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const int ext = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("sqlite3_open_v2", ext, msg, path_);
  }
  check(sqlite3_extended_result_codes(db_, 1), "sqlite3_extended_result_codes");
}

Db::~Db() {
  cache_.clear();  // finalize statements before closing
  // Every statement is finalized above, so close cannot report SQLITE_BUSY.
  sqlite3_close(db_);
}

void Db::fail(int rc, const std::string& call) const {
  const int ext = sqlite3_extended_errcode(db_);
  // The handle's error may belong to an older call when rc came from elsewhere.
  const bool same = (ext & 0xff) == (rc & 0xff);
  throw Error(call, same ? ext : rc, same ? sqlite3_errmsg(db_) : sqlite3_errstr(rc), path_);
}

void Db::check(int rc, const std::string& call) const {
  if (rc != SQLITE_OK) fail(rc, call);
}

void Db::exec(const char* sql, const char* call) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(std::string(call) + " [" + std::string(sql).substr(0, 60) + "]",
                sqlite3_extended_errcode(db_), msg, path_);
  }
}

Stmt& Db::stmt(const char* sql) {
  auto it = cache_.find(std::string_view(sql));
  if (it == cache_.end()) {
    it = cache_.emplace(std::string(sql), std::make_unique<Stmt>(*this, sql)).first;
  }
  it->second->reset();
  return *it->second;
}

Stmt::Stmt(Db& db, const char* sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v3(db_.raw(), sql, -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st_);
    st_ = nullptr;
    db_.fail(rc, "sqlite3_prepare_v3 [" + sql_.substr(0, 60) + "]");
  }
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Stmt& Stmt::bind(int i, std::string_view v) {
  if (v.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error("sqlite3_bind_text", SQLITE_TOOBIG, "string too long", db_.path());
  }
  db_.check(sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
            "sqlite3_bind_text");
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  db_.check(sqlite3_bind_int64(st_, i, static_cast<sqlite3_int64>(v)), "sqlite3_bind_int64");
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  db_.check(sqlite3_bind_double(st_, i, v), "sqlite3_bind_double");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, "sqlite3_step [" + sql_.substr(0, 60) + "]");
}

void Stmt::run() {
  if (step()) {
    throw Error("sqlite3_step", "statement unexpectedly returned rows: " + sql_, db_.path());
  }
}

void Stmt::reset() noexcept {
  // sqlite3_reset repeats the error of the last step, which was already
  // reported by step(); clearing bindings cannot fail.
  static_cast<void>(sqlite3_reset(st_));
  static_cast<void>(sqlite3_clear_bindings(st_));
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(st_, col);
  if (p == nullptr) {
    if (sqlite3_errcode(db_.raw()) == SQLITE_NOMEM) db_.fail(SQLITE_NOMEM, "sqlite3_column_text");
    return {};
  }
  const int n = sqlite3_column_bytes(st_, col);
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::int64_t Stmt::int64(int col) const {
  return static_cast<std::int64_t>(sqlite3_column_int64(st_, col));
}

double Stmt::real(int col) const { return sqlite3_column_double(st_, col); }

bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

Txn::Txn(Db& db, const char* begin) : db_(db) { db_.exec(begin, "BEGIN"); }

Txn::~Txn() {
  if (!done_) {
    // Best effort: a failed ROLLBACK leaves SQLite to roll back on the next statement.
    char* err = nullptr;
    static_cast<void>(sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, &err));
    sqlite3_free(err);
  }
}

void Txn::commit() {
  db_.exec("COMMIT", "COMMIT");
  done_ = true;
}

}  // namespace spool::autotune::sql
