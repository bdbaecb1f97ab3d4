// Opening (corrupt-file fallback, WAL, schema) and the keyed lookups/updates.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "schema.hpp"
#include "sqlite.hpp"
#include "store_impl.hpp"

namespace spool::autotune {

namespace fs = std::filesystem;
using detail::bind_device;
using detail::bind_kernel;

namespace {

constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
constexpr int kReadOnlyFlags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;

bool is_memory_path(const std::string& path) { return path.empty() || path == ":memory:"; }

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(std::min<long long>(left, 1 << 30)) : 0;
}

// Fails with SQLITE_CORRUPT (so the caller moves the file aside) unless the
// whole database passes PRAGMA quick_check; a file that is not a database
// fails earlier, with SQLITE_NOTADB.
void quick_check(sql::Db& db) {
  sql::Use s(db.stmt("PRAGMA quick_check"));
  std::string problems;
  while (s->step()) {
    const std::string line = s->text(0);
    if (line == "ok") continue;
    if (!problems.empty()) problems += "; ";
    problems += line;
  }
  if (!problems.empty()) throw Error("PRAGMA quick_check", SQLITE_CORRUPT, problems, db.path());
}

void configure(sql::Db& db, bool memory, bool read_only) {
  if (memory) return;
  quick_check(db);
  if (read_only) {
    schema::check_readable(db);
    return;
  }
  // Refuse foreign or newer files before anything below writes to them.
  schema::check_compatible(db);
  {
    // Returns the resulting mode; "wal" unless the file system cannot share
    // memory, in which case SQLite keeps the rollback journal (still correct).
    sql::Use s(db.stmt("PRAGMA journal_mode = WAL"));
    while (s->step()) {
    }
  }
  db.exec("PRAGMA synchronous = NORMAL", "PRAGMA synchronous");
}

// "file:<path>?<query>" with the characters URIs reserve escaped.
std::string file_uri(const std::string& path, const char* query) {
  std::string u = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      u += '%';
      u += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      u += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      u += c;
    }
  }
  return u + "?" + query;
}

std::unique_ptr<sql::Db> open_db_once(const std::string& path, bool memory, const OpenOptions& o,
                                      Clock::time_point deadline) {
  std::unique_ptr<sql::Db> db;
  if (o.read_only && !memory) {
    // mode=ro first; a WAL store in a directory this process cannot write
    // (no -shm can be created) is then read as immutable: the shipped case.
    try {
      db = std::make_unique<sql::Db>(file_uri(path, "mode=ro"), kReadOnlyFlags, path);
      db->check(sqlite3_busy_timeout(db->raw(), std::max(remaining_ms(deadline), 1)), "sqlite3_busy_timeout");
      configure(*db, false, true);
      return db;
    } catch (const Error& e) {
      const int primary = e.sqlite_code() & 0xff;
      if (primary != SQLITE_CANTOPEN && primary != SQLITE_READONLY) throw;
    }
    db = std::make_unique<sql::Db>(file_uri(path, "immutable=1"), kReadOnlyFlags, path);
    configure(*db, false, true);
    return db;
  }
  db = std::make_unique<sql::Db>(memory ? std::string(":memory:") : path, kOpenFlags);
  db->check(sqlite3_busy_timeout(db->raw(), std::max(remaining_ms(deadline), 1)), "sqlite3_busy_timeout");
  configure(*db, memory, false);
  schema::prepare(*db);
  if (!memory) {
    // Writable now, not only readable: a writer holding the file locked
    // past the deadline fails the open (Errc::timeout) instead of stalling
    // the first write later.
    sql::Txn probe(*db);
    probe.commit();
  }
  // From now on each statement waits at most the busy timeout for a lock.
  db->check(sqlite3_busy_timeout(db->raw(), static_cast<int>(o.busy_timeout.count())), "sqlite3_busy_timeout");
  return db;
}

// While other processes open the same file (switching it to WAL, creating or
// migrating the schema), some steps report SQLITE_BUSY at once instead of
// calling the busy handler; the whole open is retried until the busy timeout,
// which bounds the whole open.
std::unique_ptr<sql::Db> open_db(const std::string& path, bool memory, const OpenOptions& o) {
  const auto deadline = Clock::now() + o.busy_timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    try {
      return open_db_once(path, memory, o, deadline);
    } catch (const Error& e) {
      const int primary = e.sqlite_code() & 0xff;
      if (primary != SQLITE_BUSY && primary != SQLITE_LOCKED) throw;
      if (Clock::now() >= deadline) {
        throw Error("open",
                    "another process held the store locked for longer than the busy timeout (" +
                        std::to_string(o.busy_timeout.count()) + " ms; last: " + e.detail() + ")",
                    path, Errc::timeout);
      }
    }
    std::this_thread::sleep_for(std::min(pause, std::chrono::milliseconds(std::max(remaining_ms(deadline), 1))));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// Moves `path` (and its -wal/-shm/-journal companions) aside; never deletes.
// Returns the new name, or an empty string with *why set when it could not.
std::string move_aside(const std::string& path, std::string* why) {
  const std::string base = path + ".corrupt-" + std::to_string(detail::now_unix());
  std::string aside = base;
  for (int i = 1; exists(aside); ++i) aside = base + "." + std::to_string(i);
  std::error_code ec;
  fs::rename(path, aside, ec);
  if (ec) {
    *why = ec.message();
    return {};
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    if (exists(path + suffix)) {
      fs::rename(path + suffix, aside + suffix, ec);  // best effort: the main file is safe
    }
  }
  return aside;
}

std::unique_ptr<Store::Impl> open_impl(const std::string& path, std::string version,
                                       const OpenOptions& o, std::string* warning) {
  auto impl = std::make_unique<Store::Impl>();
  impl->version = std::move(version);
  if (is_memory_path(path)) {
    impl->db = open_db(path, true, o);
    impl->path = ":memory:";
    impl->memory = true;
    impl->current_keys = true;
    return impl;
  }
  if (o.read_only) {
    // Nothing is created, migrated or moved aside: failures are errors.
    if (!exists(path)) throw Error("open", "no store at this path (opened read-only, so none is created)", path, Errc::invalid_argument);
    impl->db = open_db(path, false, o);
    impl->path = path;
    impl->memory = false;
    impl->read_only = true;
    impl->current_keys = schema::has_current_keys(*impl->db);
    return impl;
  }
  const fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) {
      throw Error("create_directories", "cannot create " + p.parent_path().string() + ": " +
                                            ec.message(), path);
    }
  }
  try {
    impl->db = open_db(path, false, o);
    impl->path = path;
    impl->memory = false;
    impl->current_keys = true;
    return impl;
  } catch (const Error& e) {
    const int primary = e.sqlite_code() & 0xff;
    if (primary != SQLITE_NOTADB && primary != SQLITE_CORRUPT) throw;
    impl->db.reset();  // close the file before moving it
    std::string why;
    const std::string aside = move_aside(path, &why);
    std::string msg = "spool autotune: the store '" + path + "' is unreadable (" + e.call() + ": " + e.detail() + "); ";
    if (!aside.empty()) {
      msg += "it was moved aside to '" + aside + "' with its bytes intact";
    } else {
      msg += "it could not be moved aside (" + why + ") and was left in place, untouched";
    }
    msg += "; autotuning continues with an in-memory store, so nothing is saved by this process";
    if (warning != nullptr) *warning = std::move(msg);
  }
  impl->db = open_db(":memory:", true, o);
  impl->path = ":memory:";
  impl->memory = true;
  impl->current_keys = true;
  return impl;
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path, std::string* warning) {
  return open(path, OpenOptions{}, warning);
}

std::unique_ptr<Store> Store::open(const std::string& path, const OpenOptions& options,
                                   std::string* warning) {
  return open_as_version(path, std::string(spool_version()), options, warning);
}

std::unique_ptr<Store> Store::open_as_version(const std::string& path, std::string version,
                                              std::string* warning) {
  return open_as_version(path, std::move(version), OpenOptions{}, warning);
}

std::unique_ptr<Store> Store::open_as_version(const std::string& path, std::string version,
                                              const OpenOptions& options, std::string* warning) {
  if (warning != nullptr) warning->clear();
  if (options.busy_timeout.count() < 0) {
    throw Error("open", "busy_timeout must not be negative", path, Errc::invalid_argument);
  }
  return std::unique_ptr<Store>(new Store(open_impl(path, std::move(version), options, warning)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

std::string Store::path() const { return impl_->path; }
bool Store::in_memory() const { return impl_->memory; }
bool Store::read_only() const { return impl_->read_only; }
std::string Store::key_version() const { return impl_->version; }

std::optional<LaunchProfileRecord> Store::load_profile(const DeviceKey& d) {
  std::lock_guard lock(impl_->mu);
  sql::Use s(impl_->db->stmt(
      "SELECT launch_ns, record_setup_ns, replay_ns, persistent_setup_ns, queue_item_ns, "
      "samples, measured_at_unix FROM launch_profiles WHERE " SPOOL_AT_DEVICE_WHERE));
  bind_device(*s, d, impl_->version);
  if (!s->step()) return std::nullopt;
  LaunchProfileRecord r;
  r.launch_ns = s->real(0);
  r.record_setup_ns = s->real(1);
  r.replay_ns = s->real(2);
  r.persistent_setup_ns = s->real(3);
  r.queue_item_ns = s->real(4);
  r.samples = static_cast<std::uint64_t>(s->int64(5));
  r.measured_at_unix = s->int64(6);
  detail::check_value(problem(r), "load_profile",
                      "launch_profiles row (" + detail::describe_row(d, impl_->version, nullptr) + ")", impl_->path);
  return r;
}

void Store::save_profile(const DeviceKey& d, const LaunchProfileRecord& r) {
  const std::string row = "launch profile (" + detail::describe_row(d, impl_->version, nullptr) + ")";
  detail::check_value(problem(d, impl_->version), "save_profile", row, impl_->path);
  detail::check_value(problem(r), "save_profile", row, impl_->path);
  std::lock_guard lock(impl_->mu);
  sql::Use s(impl_->db->stmt(
      "INSERT OR REPLACE INTO launch_profiles (" SPOOL_AT_DEVICE_COLS
      ", launch_ns, record_setup_ns, replay_ns, persistent_setup_ns, queue_item_ns, samples, "
      "measured_at_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  bind_device(*s, d, impl_->version);
  s->bind(7, r.launch_ns).bind(8, r.record_setup_ns).bind(9, r.replay_ns);
  s->bind(10, r.persistent_setup_ns).bind(11, r.queue_item_ns);
  s->bind(12, static_cast<std::int64_t>(r.samples)).bind(13, r.measured_at_unix);
  s->run();
}

namespace {
std::string observation_row(const DeviceKey& d, const std::string& version, const KernelKey& k,
                            ShapeBucket b, const std::string& variant) {
  return "observations row (" + detail::describe_row(d, version, &k) + ", items 2^" +
         std::to_string(b.log2_items) + ", grid 2^" + std::to_string(b.log2_grid) + ", " + variant + ")";
}

std::optional<Observation> read_observation(sql::Db& db, const DeviceKey& d,
                                            const std::string& version, const KernelKey& k,
                                            ShapeBucket b, const std::string& variant,
                                            const std::string& path) {
  sql::Use s(db.stmt("SELECT count, mean_ns, m2 FROM observations WHERE " SPOOL_AT_KERNEL_WHERE
                     " AND variant = ?11"));
  bind_kernel(*s, d, version, k, b);
  s->bind(11, variant);
  if (!s->step()) return std::nullopt;
  const std::int64_t count = s->int64(0);
  Observation o{static_cast<std::uint64_t>(count), s->real(1), s->real(2)};
  if (count < 0) {
    detail::check_value("field 'count' = " + std::to_string(count) + " is negative", "observation",
                        observation_row(d, version, k, b, variant), path);
  }
  detail::check_value(problem(o), "observation", observation_row(d, version, k, b, variant), path);
  return o;
}

// The key of a kernel row about to be written.
void check_kernel_key(const DeviceKey& d, const std::string& version, const KernelKey& k, ShapeBucket b,
                      const std::string& variant, const char* call, const std::string& path) {
  const std::string row = detail::describe_row(d, version, &k);
  detail::check_value(problem(d, version), call, row, path);
  detail::check_value(problem(k, b, variant), call, row, path);
}
}  // namespace

Observation Store::add_observation(const DeviceKey& d, const KernelKey& k, ShapeBucket b,
                                   const std::string& variant, double per_item_ns) {
  if (!std::isfinite(per_item_ns) || per_item_ns < 0 || per_item_ns > kMaxNs) {
    throw Error("add_observation",
                "per_item_ns " + std::to_string(per_item_ns) + " is not a finite time in [0, 1e12] ns",
                impl_->path);
  }
  check_kernel_key(d, impl_->version, k, b, variant, "add_observation", impl_->path);
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  Observation o =
      read_observation(db, d, impl_->version, k, b, variant, impl_->path).value_or(Observation{});
  // Welford's online update.
  o.count += 1;
  const double delta = per_item_ns - o.mean_ns;
  o.mean_ns += delta / static_cast<double>(o.count);
  o.m2 += delta * (per_item_ns - o.mean_ns);
  {
    sql::Use s(db.stmt("INSERT OR REPLACE INTO observations (" SPOOL_AT_KERNEL_COLS
                       ", variant, count, mean_ns, m2, updated_at_unix) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
    bind_kernel(*s, d, impl_->version, k, b);
    s->bind(11, variant).bind(12, static_cast<std::int64_t>(o.count)).bind(13, o.mean_ns);
    s->bind(14, o.m2).bind(15, detail::now_unix());
    s->run();
  }
  txn.commit();
  return o;
}

std::optional<Observation> Store::observation(const DeviceKey& d, const KernelKey& k,
                                              ShapeBucket b, const std::string& variant) {
  std::lock_guard lock(impl_->mu);
  return read_observation(*impl_->db, d, impl_->version, k, b, variant, impl_->path);
}

std::optional<std::string> Store::winner(const DeviceKey& d, const KernelKey& k, ShapeBucket b) {
  std::lock_guard lock(impl_->mu);
  sql::Use s(impl_->db->stmt("SELECT variant FROM winners WHERE " SPOOL_AT_KERNEL_WHERE));
  bind_kernel(*s, d, impl_->version, k, b);
  if (!s->step()) return std::nullopt;
  return s->text(0);
}

void Store::set_winner(const DeviceKey& d, const KernelKey& k, ShapeBucket b,
                       const std::string& variant) {
  check_kernel_key(d, impl_->version, k, b, variant, "set_winner", impl_->path);
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  {
    sql::Use s(db.stmt("INSERT OR REPLACE INTO winners (" SPOOL_AT_KERNEL_COLS
                       ", variant, decided_at_unix) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    bind_kernel(*s, d, impl_->version, k, b);
    s->bind(11, variant).bind(12, detail::now_unix());
    s->run();
  }
  {
    sql::Use s(db.stmt("DELETE FROM rejections WHERE " SPOOL_AT_KERNEL_WHERE " AND variant = ?11"));
    bind_kernel(*s, d, impl_->version, k, b);
    s->bind(11, variant);
    s->run();
  }
  txn.commit();
}

bool Store::is_rejected(const DeviceKey& d, const KernelKey& k, ShapeBucket b,
                        const std::string& variant) {
  std::lock_guard lock(impl_->mu);
  sql::Use s(impl_->db->stmt("SELECT 1 FROM rejections WHERE " SPOOL_AT_KERNEL_WHERE
                             " AND variant = ?11"));
  bind_kernel(*s, d, impl_->version, k, b);
  s->bind(11, variant);
  return s->step();
}

void Store::reject(const DeviceKey& d, const KernelKey& k, ShapeBucket b,
                   const std::string& variant) {
  check_kernel_key(d, impl_->version, k, b, variant, "reject", impl_->path);
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  {
    sql::Use s(db.stmt("INSERT OR REPLACE INTO rejections (" SPOOL_AT_KERNEL_COLS
                       ", variant, rejected_at_unix) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    bind_kernel(*s, d, impl_->version, k, b);
    s->bind(11, variant).bind(12, detail::now_unix());
    s->run();
  }
  {
    sql::Use s(db.stmt("DELETE FROM winners WHERE " SPOOL_AT_KERNEL_WHERE " AND variant = ?11"));
    bind_kernel(*s, d, impl_->version, k, b);
    s->bind(11, variant);
    s->run();
  }
  txn.commit();
}

VariantState Store::variant_state(const DeviceKey& d, const KernelKey& k, ShapeBucket b,
                                  const std::string& variant) {
  if (is_rejected(d, k, b, variant)) return VariantState::rejected;
  if (winner(d, k, b) == variant) return VariantState::winner;
  if (observation(d, k, b, variant).has_value()) return VariantState::racing;
  return VariantState::candidate;
}

void Store::record_current(const DeviceKey& d, const KernelKey& k) {
  detail::check_value(problem(d, impl_->version), "record_current", detail::describe_row(d, impl_->version, nullptr),
                      impl_->path);
  std::lock_guard lock(impl_->mu);
  if (impl_->read_only || !impl_->current_keys) return;
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  {
    const KernelKey* key = k.kernel.empty() ? nullptr : &k;
    sql::Use s(db.stmt("INSERT OR REPLACE INTO current_keys (backend, uuid, device_name, kernel, driver_version, "
                       "api_version, spool_version, source_hash, seen_at_unix) VALUES "
                       "(?1, ?2, ?3, ?7, ?4, ?5, ?6, ?8, ?9)"));
    bind_device(*s, d, impl_->version);
    s->bind(7, key != nullptr ? key->kernel : std::string());
    s->bind(8, key != nullptr ? key->source_hash : std::string());
    s->bind(9, detail::now_unix());
    s->run();
  }
  txn.commit();
}

void Store::clear() {
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  db.exec("DELETE FROM launch_profiles; DELETE FROM observations; DELETE FROM winners; "
          "DELETE FROM rejections;",
          "clear");
  if (impl_->current_keys) db.exec("DELETE FROM current_keys;", "clear current_keys");
  txn.commit();
}

int Store::schema_version() {
  std::lock_guard lock(impl_->mu);
  return schema::version(*impl_->db);
}

}  // namespace spool::autotune
