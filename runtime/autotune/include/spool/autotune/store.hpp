// The autotune store: a small SQLite database that remembers, per device and
// kernel, the measured launch profile, the running statistics of every raced
// kernel variant, the winners and the rejected variants, across runs and
// across processes.
//
// Key of every row: device identity (backend, uuid, name), driver version,
// backend API version and the Spool version; kernel rows add the kernel name,
// its source hash, the shape bucket (floor(log2) of items and grid) and the
// variant string ("wg=64", "wg=256,body=alt"). Lookups match the whole key, so
// an entry measured under another driver, API version, Spool version or
// kernel source is never returned; stale() reports such entries.
//
// Thread-safe: every member function takes the store's mutex. Several
// processes may share one file (WAL mode, busy timeout, write transactions
// taken with BEGIN IMMEDIATE). See docs/autotune.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "spool/error.hpp"

namespace spool::autotune {

// The Spool version this library was built as (CMake PROJECT_VERSION); part of every key.
[[nodiscard]] std::string_view spool_version() noexcept;

struct DeviceKey {
  std::string backend;  // "vulkan" | "cuda"
  std::string uuid;
  std::string name;
  std::string driver_version;
  std::string api_version;
};

struct KernelKey {
  std::string kernel;
  std::string source_hash;
};

struct ShapeBucket {
  std::uint8_t log2_items = 0;
  std::uint8_t log2_grid = 0;
  friend bool operator==(const ShapeBucket&, const ShapeBucket&) = default;
};

// floor(log2(items)), floor(log2(grid)); 0 for 0 (and for 1).
[[nodiscard]] ShapeBucket bucket_for(std::uint64_t items, std::uint64_t grid) noexcept;

struct LaunchProfileRecord {
  double launch_ns = 0;            // L
  double record_setup_ns = 0;      // R
  double replay_ns = 0;            // r
  double persistent_setup_ns = 0;  // P
  double queue_item_ns = 0;        // p
  std::uint64_t samples = 0;
  std::int64_t measured_at_unix = 0;
};

// Running statistics of one variant (Welford): enough to restart a race.
struct Observation {
  std::uint64_t count = 0;
  double mean_ns = 0;
  double m2 = 0;  // sum of squared deviations from the mean
  // Sample variance m2 / (count - 1); 0 when count < 2.
  [[nodiscard]] double variance() const noexcept;
};

enum class VariantState { candidate, racing, winner, rejected };
[[nodiscard]] std::string_view to_string(VariantState s) noexcept;

struct StaleReport {
  std::uint64_t stale_profiles = 0;
  std::uint64_t stale_observations = 0;
  std::uint64_t stale_winners = 0;
  std::uint64_t stale_rejections = 0;
  std::vector<std::string> reasons;  // e.g. "driver 1.2 != 1.3 for saxpy", deduplicated, sorted
  [[nodiscard]] bool empty() const noexcept {
    return stale_profiles + stale_observations + stale_winners + stale_rejections == 0;
  }
};

// Limits every stored value must respect (checked on every write, on
// import and when a row is read back): times are finite and in
// [0, kMaxNs] ns, m2 in [0, count * kMaxNs^2], a count of 0 has mean 0 and
// m2 0, a count of 1 has m2 0; timestamps in [0, kMaxUnixTime] (year 9999);
// key strings are non-empty (uuid: any), at most kMaxKeyChars, without NUL
// characters; backend is "vulkan" or "cuda".
inline constexpr double kMaxNs = 1e12;  // 1000 s
inline constexpr std::int64_t kMaxUnixTime = 253402300799;
inline constexpr std::size_t kMaxKeyChars = 512;

// Why a value cannot be stored, naming the field and the accepted range
// ("field 'launch_ns' = -1e+12 is not in [0, 1e+12] ns"); empty when it can.
[[nodiscard]] std::string problem(const LaunchProfileRecord& r);
[[nodiscard]] std::string problem(const Observation& o);
[[nodiscard]] std::string problem(const DeviceKey& d, std::string_view spool_version);
[[nodiscard]] std::string problem(const KernelKey& k, ShapeBucket b, std::string_view variant);

// Full rows, for listing tools (`spool autotune`) and export. `stale` says why
// a row is not used by the latest process that used this device (and
// kernel), e.g. "source hash sha256:a != sha256:b (current)"; empty when it is
// current or nothing newer is known (see Store::record_current).
struct ProfileRow {
  DeviceKey device;
  std::string spool_version;
  LaunchProfileRecord profile;
  std::string stale;
};
struct ObservationRow {
  DeviceKey device;
  std::string spool_version;
  KernelKey kernel;
  ShapeBucket bucket;
  std::string variant;
  Observation observation;
  std::int64_t updated_at_unix = 0;
  std::string stale;
};
struct DecisionRow {  // a winner or a rejection
  DeviceKey device;
  std::string spool_version;
  KernelKey kernel;
  ShapeBucket bucket;
  std::string variant;
  std::int64_t at_unix = 0;
  std::string stale;
};

// Rows named by their full key, as the listings return them (erase()).
struct RowSet {
  std::vector<ProfileRow> profiles;
  std::vector<ObservationRow> observations;
  std::vector<DecisionRow> winners;
  std::vector<DecisionRow> rejections;
  [[nodiscard]] std::size_t size() const noexcept {
    return profiles.size() + observations.size() + winners.size() + rejections.size();
  }
};

// Every failure of the store: a spool::Error (catch `const spool::Error&` for
// any Spool failure). what() names the call, the SQLite error name and
// message (or the JSON problem) and the store's path. code() is
// Errc::storage for SQLite failures (Errc::timeout while another process
// holds the file locked), Errc::invalid_argument for bad input (malformed
// JSON, a bad row or value), Errc::not_supported for a foreign or newer file.
class Error : public spool::Error {
 public:
  // An SQLite failure: `code` is the extended result code.
  Error(std::string call, int code, const std::string& sqlite_message, std::string path);
  // A failure that is not an SQLite result (malformed JSON, a bad value, ...).
  Error(std::string call, const std::string& message, std::string path,
        Errc kind = Errc::invalid_argument);
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // Extended SQLite result code, 0 when the failure is not an SQLite result.
  [[nodiscard]] int sqlite_code() const noexcept { return sqlite_code_; }
  // what() without the "spool autotune: <call>: " prefix and the path.
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

 private:
  std::string detail_;
  std::string path_;
  int sqlite_code_ = 0;
};

struct OpenOptions {
  // Never write: nothing is created, migrated or moved aside, and every
  // write throws Error. For SPOOL_AUTOTUNE=frozen and pre-tuned stores
  // shipped read-only (a WAL store in a directory nobody may write is read
  // as immutable). The file must exist and have schema 2 or later.
  bool read_only = false;
  // How long to wait while other processes hold the file locked: opening
  // waits at most this long in total, then throws Error (Errc::timeout);
  // later, each statement waits at most this long.
  std::chrono::milliseconds busy_timeout{10'000};
};

class Store {
 public:
  // Current schema version written by this library.
  static constexpr int kSchemaVersion = 3;

  // path: a file path, or ":memory:" (or empty) for a store in memory. Missing parent
  // directories are created. Opening retries while other processes hold the file busy.
  // A corrupt or unreadable file (not a database, corrupt pages) is renamed
  // aside to path + ".corrupt-<unix time>" (with its -wal/-shm companions),
  // never truncated or deleted; the store continues in memory and *warning
  // (if non-null) receives a message saying so. Other failures throw Error:
  // e.g. permission denied, a valid SQLite file that is not a Spool store, a
  // store written by a newer Spool (schema version above kSchemaVersion).
  static std::unique_ptr<Store> open(const std::string& path, std::string* warning = nullptr);
  static std::unique_ptr<Store> open(const std::string& path, const OpenOptions& options,
                                     std::string* warning = nullptr);
  // As open(), with another Spool version in the keys (tests, migration tools).
  static std::unique_ptr<Store> open_as_version(const std::string& path, std::string version,
                                                std::string* warning = nullptr);
  static std::unique_ptr<Store> open_as_version(const std::string& path, std::string version,
                                                const OpenOptions& options,
                                                std::string* warning = nullptr);
  // SPOOL_AUTOTUNE_DB if set and non-empty, else $XDG_CACHE_HOME/spool/autotune.sqlite
  // (XDG_CACHE_HOME absolute), else ~/.cache/spool/autotune.sqlite ($HOME, then the
  // password database), else ":memory:".
  static std::string default_path();

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Where the data lives: the file path, or ":memory:" (also after a corrupt-file fallback).
  [[nodiscard]] std::string path() const;
  [[nodiscard]] bool in_memory() const;
  [[nodiscard]] bool read_only() const;
  // The Spool version used in keys (spool_version() unless opened with open_as_version).
  [[nodiscard]] std::string key_version() const;

  // A stored profile that breaks the limits above throws Error naming the
  // row and field (Errc::invalid_argument); so does saving one.
  std::optional<LaunchProfileRecord> load_profile(const DeviceKey&);
  void save_profile(const DeviceKey&, const LaunchProfileRecord&);

  // Adds one observation (per-item ns of one batch) for a variant; the Welford
  // update is one transaction, so concurrent writers never lose a sample.
  // Throws Error (invalid_argument) for a negative, non-finite or too large
  // value. observation() throws Error for a stored row that breaks the limits.
  Observation add_observation(const DeviceKey&, const KernelKey&, ShapeBucket,
                              const std::string& variant, double per_item_ns);
  std::optional<Observation> observation(const DeviceKey&, const KernelKey&, ShapeBucket,
                                         const std::string& variant);

  std::optional<std::string> winner(const DeviceKey&, const KernelKey&, ShapeBucket);
  // The latest decision wins: set_winner(v) also lifts a rejection of v,
  // reject(v) also drops v as winner.
  void set_winner(const DeviceKey&, const KernelKey&, ShapeBucket, const std::string& variant);
  bool is_rejected(const DeviceKey&, const KernelKey&, ShapeBucket, const std::string& variant);
  void reject(const DeviceKey&, const KernelKey&, ShapeBucket, const std::string& variant);
  // rejected > winner > racing (has observations) > candidate.
  VariantState variant_state(const DeviceKey&, const KernelKey&, ShapeBucket,
                             const std::string& variant);

  // Entries for the same device identity (backend+uuid+name) / kernel name
  // whose driver, API version, Spool version or kernel source hash differ:
  // they are never returned by the lookups above. Profiles are matched by
  // device identity only.
  StaleReport stale(const DeviceKey&, const KernelKey&);
  // Records the key this process uses: with kernel.kernel empty, the device's
  // (launch profiles of the same identity whose driver, API or Spool version
  // differ are then marked stale in listings); else the kernel's (its rows
  // of the same device identity whose key differs in any part are marked).
  // The `stale` field of the listed rows. Racing processes call it at device
  // open and once per kernel; a read-only store ignores it.
  void record_current(const DeviceKey& device, const KernelKey& kernel);

  // Listing (kernel empty: all kernels), ordered by key.
  std::vector<ProfileRow> list_profiles();
  std::vector<ObservationRow> list_observations(const std::string& kernel = {});
  std::vector<DecisionRow> list_winners(const std::string& kernel = {});
  std::vector<DecisionRow> list_rejections(const std::string& kernel = {});

  // All rows of all tables as one JSON document (format "spool-autotune").
  std::string export_json();
  // Imports an export_json() document in one transaction; rows with the same
  // key are replaced. Returns the number of rows imported. Malformed JSON, a
  // row with a missing, mistyped or out-of-range field (see the limits
  // above), two rows with the same key, or a variant that is both a winner
  // and rejected throws Error naming the row and field, and writes nothing.
  std::size_t import_json(const std::string& json);

  // Deletes every row of every table (the schema stays).
  void clear();
  // Deletes exactly the rows named (by full key; a winner only while it is
  // still the variant named), in one transaction. Returns how many rows were
  // deleted (rows already gone are not counted). `spool autotune clear
  // --kernel/--device` and `prune` use it.
  std::size_t erase(const RowSet& rows);
  int schema_version();

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spool::autotune
