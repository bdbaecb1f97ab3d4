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

constexpr int kBusyTimeoutMs = 10'000;
constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

bool is_memory_path(const std::string& path) { return path.empty() || path == ":memory:"; }

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

void configure(sql::Db& db, bool memory) {
  db.check(sqlite3_busy_timeout(db.raw(), kBusyTimeoutMs), "sqlite3_busy_timeout");
  if (memory) return;
  quick_check(db);
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

std::unique_ptr<sql::Db> open_db_once(const std::string& path, bool memory) {
  auto db = std::make_unique<sql::Db>(memory ? std::string(":memory:") : path, kOpenFlags);
  configure(*db, memory);
  schema::prepare(*db);
  return db;
}

// While other processes open the same file (switching it to WAL, creating or
// migrating the schema), some steps report SQLITE_BUSY at once instead of
// calling the busy handler; the whole open is retried until the busy timeout.
std::unique_ptr<sql::Db> open_db(const std::string& path, bool memory) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    try {
      return open_db_once(path, memory);
    } catch (const Error& e) {
      const int primary = e.sqlite_code() & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || Clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(pause);
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
                                       std::string* warning) {
  auto impl = std::make_unique<Store::Impl>();
  impl->version = std::move(version);
  if (is_memory_path(path)) {
    impl->db = open_db(path, true);
    impl->path = ":memory:";
    impl->memory = true;
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
    impl->db = open_db(path, false);
    impl->path = path;
    impl->memory = false;
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
  impl->db = open_db(":memory:", true);
  impl->path = ":memory:";
  impl->memory = true;
  return impl;
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path, std::string* warning) {
  return open_as_version(path, std::string(spool_version()), warning);
}

std::unique_ptr<Store> Store::open_as_version(const std::string& path, std::string version,
                                              std::string* warning) {
  if (warning != nullptr) warning->clear();
  return std::unique_ptr<Store>(new Store(open_impl(path, std::move(version), warning)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

std::string Store::path() const { return impl_->path; }
bool Store::in_memory() const { return impl_->memory; }
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
  return r;
}

void Store::save_profile(const DeviceKey& d, const LaunchProfileRecord& r) {
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
std::optional<Observation> read_observation(sql::Db& db, const DeviceKey& d,
                                            const std::string& version, const KernelKey& k,
                                            ShapeBucket b, const std::string& variant) {
  sql::Use s(db.stmt("SELECT count, mean_ns, m2 FROM observations WHERE " SPOOL_AT_KERNEL_WHERE
                     " AND variant = ?11"));
  bind_kernel(*s, d, version, k, b);
  s->bind(11, variant);
  if (!s->step()) return std::nullopt;
  return Observation{static_cast<std::uint64_t>(s->int64(0)), s->real(1), s->real(2)};
}
}  // namespace

Observation Store::add_observation(const DeviceKey& d, const KernelKey& k, ShapeBucket b,
                                   const std::string& variant, double per_item_ns) {
  if (!std::isfinite(per_item_ns) || per_item_ns < 0) {
    throw Error("add_observation", "per_item_ns " + std::to_string(per_item_ns) +
                                       " is not a finite, non-negative number",
                impl_->path);
  }
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  Observation o = read_observation(db, d, impl_->version, k, b, variant).value_or(Observation{});
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
  return read_observation(*impl_->db, d, impl_->version, k, b, variant);
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

void Store::clear() {
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  db.exec("DELETE FROM launch_profiles; DELETE FROM observations; DELETE FROM winners; "
          "DELETE FROM rejections;",
          "clear");
  txn.commit();
}

int Store::schema_version() {
  std::lock_guard lock(impl_->mu);
  return schema::version(*impl_->db);
}

}  // namespace spool::autotune
