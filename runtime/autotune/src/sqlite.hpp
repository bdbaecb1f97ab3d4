// Thin checked RAII layer over the SQLite C API, private to spool::autotune.
// Every sqlite3_* call whose result can fail is checked; failures throw
// spool::autotune::Error naming the call, the SQLite error and the path.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "spool/autotune/store.hpp"

namespace spool::autotune::sql {

// "SQLITE_BUSY", "SQLITE_CORRUPT", ... for a (primary or extended) result code.
[[nodiscard]] const char* code_name(int code) noexcept;

class Stmt;

class Db {
 public:
  // Opens `path` (a file name, or a file: URI with SQLITE_OPEN_URI) with
  // `flags`; throws Error on failure. `shown` names it in errors (default: path).
  Db(const std::string& path, int flags, std::string shown = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  [[nodiscard]] sqlite3* raw() const noexcept { return db_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // Throws Error(call, extended code, errmsg, path) unless rc is one of ok values.
  void check(int rc, const std::string& call) const;
  [[noreturn]] void fail(int rc, const std::string& call) const;
  // Runs SQL with no result rows (may hold several statements).
  void exec(const char* sql, const char* call);
  // The cached prepared statement for `sql` (prepared on first use), reset and unbound.
  Stmt& stmt(const char* sql);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::map<std::string, std::unique_ptr<Stmt>, std::less<>> cache_;
};

class Stmt {
 public:
  Stmt(Db& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binding: 1-based index.
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, double v);
  // true: a row is available; false: done. Errors throw.
  bool step();
  // Steps a statement that must not return rows.
  void run();
  void reset() noexcept;

  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] bool is_null(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* st_ = nullptr;
  std::string sql_;
};

// Resets a cached statement on scope exit (so it holds no read lock).
class Use {
 public:
  explicit Use(Stmt& s) noexcept : s_(s) {}
  ~Use() { s_.reset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Stmt* operator->() noexcept { return &s_; }
  Stmt& operator*() noexcept { return s_; }

 private:
  Stmt& s_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
class Txn {
 public:
  explicit Txn(Db& db, const char* begin = "BEGIN IMMEDIATE");
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace spool::autotune::sql
