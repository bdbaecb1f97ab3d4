// JSON export/import: moves a store's rows between machines of the same kind.
//
// {"format": "spool-autotune", "format_version": 1, "schema_version": 2,
//  "exported_by_spool": "0.1.0",
//  "launch_profiles": [...], "observations": [...], "winners": [...], "rejections": [...]}
// Every row carries its whole key (device identity, driver, api and spool
// versions; kernel rows add kernel, source_hash, log2_items, log2_grid, variant).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "sqlite.hpp"
#include "store_impl.hpp"

namespace spool::autotune {

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // export keeps the documented key order
constexpr int kFormatVersion = 1;

ojson device_json(const DeviceKey& d, const std::string& spool) {
  return ojson{{"backend", d.backend},
              {"uuid", d.uuid},
              {"device_name", d.name},
              {"driver_version", d.driver_version},
              {"api_version", d.api_version},
              {"spool_version", spool}};
}

ojson kernel_json(const DeviceKey& d, const std::string& spool, const KernelKey& k,
                  ShapeBucket b, const std::string& variant) {
  ojson j = device_json(d, spool);
  j["kernel"] = k.kernel;
  j["source_hash"] = k.source_hash;
  j["log2_items"] = b.log2_items;
  j["log2_grid"] = b.log2_grid;
  j["variant"] = variant;
  return j;
}

// Field readers that say which row and field is wrong.
class Reader {
 public:
  Reader(const json& row, std::string where, const std::string& path)
      : row_(row), where_(std::move(where)), path_(path) {
    if (!row_.is_object()) fail("", "must be an object");
  }
  std::string str(const char* key) const {
    const json& v = field(key);
    if (!v.is_string()) fail(key, "must be a string");
    return v.get<std::string>();
  }
  double num(const char* key) const {
    const json& v = field(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "must be a finite number");
    return v.get<double>();
  }
  std::int64_t i64(const char* key, std::int64_t lo, std::int64_t hi) const {
    const json& v = field(key);
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(hi) && static_cast<std::int64_t>(u) >= lo) {
        return static_cast<std::int64_t>(u);
      }
    } else if (v.is_number_integer()) {
      const auto i = v.get<std::int64_t>();
      if (i >= lo && i <= hi) return i;
    }
    fail(key, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  DeviceKey device(std::string& spool) const {
    spool = str("spool_version");
    DeviceKey d{str("backend"), str("uuid"), str("device_name"), str("driver_version"), str("api_version")};
    check(problem(d, spool));
    return d;
  }
  void kernel(KernelKey& k, ShapeBucket& b, std::string& variant) const {
    k.kernel = str("kernel");
    k.source_hash = str("source_hash");
    b.log2_items = static_cast<std::uint8_t>(i64("log2_items", 0, 63));
    b.log2_grid = static_cast<std::uint8_t>(i64("log2_grid", 0, 63));
    variant = str("variant");
    check(problem(k, b, variant));
  }
  std::int64_t unix_time(const char* key) const { return i64(key, 0, kMaxUnixTime); }
  // A problem() text ("field 'x' = ... is not ...") for this row.
  void check(const std::string& problem) const {
    if (!problem.empty()) fail("", problem);
  }

 private:
  const json& field(const char* key) const {
    const auto it = row_.find(key);
    if (it == row_.end()) fail(key, "is missing");
    return *it;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error("import_json",
                where_ + (key.empty() ? std::string(": ") : ": field '" + key + "' ") + what +
                    "; nothing was imported",
                path_);
  }
  const json& row_;
  std::string where_;
  const std::string& path_;
};

constexpr std::int64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();

struct Parsed {
  std::vector<ProfileRow> profiles;
  std::vector<ObservationRow> observations;
  std::vector<DecisionRow> winners;
  std::vector<DecisionRow> rejections;
};

const json* table(const json& doc, const char* name, const std::string& path) {
  const auto it = doc.find(name);
  if (it == doc.end()) return nullptr;
  if (!it->is_array()) throw Error("import_json", std::string("'") + name + "' must be an array", path);
  return &*it;
}

DecisionRow parse_decision(const Reader& r, const char* at_key) {
  DecisionRow d;
  d.device = r.device(d.spool_version);
  r.kernel(d.kernel, d.bucket, d.variant);
  d.at_unix = r.unix_time(at_key);
  return d;
}

// The primary key of a row, to find two rows with the same key.
using RowKey = std::vector<std::string>;
RowKey key_of(const DeviceKey& d, const std::string& spool, const KernelKey* k = nullptr,
              const ShapeBucket* b = nullptr, const std::string* variant = nullptr) {
  RowKey key{d.backend, d.uuid, d.name, d.driver_version, d.api_version, spool};
  if (k != nullptr) key.insert(key.end(), {k->kernel, k->source_hash});
  if (b != nullptr) key.insert(key.end(), {std::to_string(b->log2_items), std::to_string(b->log2_grid)});
  if (variant != nullptr) key.push_back(*variant);
  return key;
}

// Throws when `key` was already seen in this table ("rows 0 and 3 ...").
void unique(std::map<RowKey, std::size_t>& seen, RowKey key, const char* table, std::size_t i,
            const std::string& path) {
  const auto [it, fresh] = seen.emplace(std::move(key), i);
  if (!fresh) {
    throw Error("import_json",
                std::string(table) + "[" + std::to_string(i) + "]: duplicates " + table + "[" +
                    std::to_string(it->second) + "] (same key); nothing was imported",
                path);
  }
}

Parsed parse(const std::string& text, const std::string& path) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw Error("import_json", std::string("malformed JSON: ") + e.what(), path);
  }
  // (doc.value("format", ...) would throw a json type_error for a non-string.)
  const auto format = doc.is_object() ? doc.find("format") : doc.end();
  if (!doc.is_object() || format == doc.end() || !format->is_string() ||
      format->get<std::string>() != "spool-autotune") {
    throw Error("import_json", "not a Spool autotune export (\"format\" must be \"spool-autotune\")",
                path);
  }
  const auto fv = doc.find("format_version");
  if (fv == doc.end() || !fv->is_number_integer() || fv->get<std::int64_t>() < 1 ||
      fv->get<std::int64_t>() > kFormatVersion) {
    throw Error("import_json", "unsupported format_version (this Spool reads 1)", path);
  }
  Parsed p;
  std::map<RowKey, std::size_t> seen;  // keys of the table being read
  const auto where = [](const char* t, std::size_t i) {
    return std::string(t) + "[" + std::to_string(i) + "]";
  };
  if (const json* rows = table(doc, "launch_profiles", path)) {
    for (std::size_t i = 0; i < rows->size(); ++i) {
      const Reader r((*rows)[i], where("launch_profiles", i), path);
      ProfileRow row;
      row.device = r.device(row.spool_version);
      row.profile.launch_ns = r.num("launch_ns");
      row.profile.record_setup_ns = r.num("record_setup_ns");
      row.profile.replay_ns = r.num("replay_ns");
      row.profile.persistent_setup_ns = r.num("persistent_setup_ns");
      row.profile.queue_item_ns = r.num("queue_item_ns");
      row.profile.samples = static_cast<std::uint64_t>(r.i64("samples", 0, kMaxI64));
      row.profile.measured_at_unix = r.unix_time("measured_at_unix");
      r.check(problem(row.profile));
      unique(seen, key_of(row.device, row.spool_version), "launch_profiles", i, path);
      p.profiles.push_back(std::move(row));
    }
  }
  if (const json* rows = table(doc, "observations", path)) {
    seen.clear();
    for (std::size_t i = 0; i < rows->size(); ++i) {
      const Reader r((*rows)[i], where("observations", i), path);
      ObservationRow row;
      row.device = r.device(row.spool_version);
      r.kernel(row.kernel, row.bucket, row.variant);
      row.observation.count = static_cast<std::uint64_t>(r.i64("count", 0, kMaxI64));
      row.observation.mean_ns = r.num("mean_ns");
      row.observation.m2 = r.num("m2");
      row.updated_at_unix = r.unix_time("updated_at_unix");
      r.check(problem(row.observation));
      unique(seen, key_of(row.device, row.spool_version, &row.kernel, &row.bucket, &row.variant), "observations", i,
             path);
      p.observations.push_back(std::move(row));
    }
  }
  // One winner per kernel key and bucket.
  std::map<RowKey, std::size_t> winner_of;
  if (const json* rows = table(doc, "winners", path)) {
    for (std::size_t i = 0; i < rows->size(); ++i) {
      DecisionRow d = parse_decision(Reader((*rows)[i], where("winners", i), path), "decided_at_unix");
      unique(winner_of, key_of(d.device, d.spool_version, &d.kernel, &d.bucket), "winners", i, path);
      p.winners.push_back(std::move(d));
    }
  }
  if (const json* rows = table(doc, "rejections", path)) {
    seen.clear();
    for (std::size_t i = 0; i < rows->size(); ++i) {
      DecisionRow d = parse_decision(Reader((*rows)[i], where("rejections", i), path), "rejected_at_unix");
      unique(seen, key_of(d.device, d.spool_version, &d.kernel, &d.bucket, &d.variant), "rejections", i, path);
      const auto w = winner_of.find(key_of(d.device, d.spool_version, &d.kernel, &d.bucket));
      if (w != winner_of.end() && p.winners[w->second].variant == d.variant) {
        throw Error("import_json",
                    "rejections[" + std::to_string(i) + "]: variant '" + d.variant + "' is also the winner in winners[" +
                        std::to_string(w->second) + "]; nothing was imported",
                    path);
      }
      p.rejections.push_back(std::move(d));
    }
  }
  return p;
}

void bind_row_kernel(sql::Stmt& s, const DeviceKey& d, const std::string& spool,
                     const KernelKey& k, ShapeBucket b, const std::string& variant) {
  detail::bind_kernel(s, d, spool, k, b);
  s.bind(11, variant);
}

void insert_decision(sql::Db& db, const char* sql, const DecisionRow& r) {
  sql::Use s(db.stmt(sql));
  bind_row_kernel(*s, r.device, r.spool_version, r.kernel, r.bucket, r.variant);
  s->bind(12, r.at_unix);
  s->run();
}

}  // namespace

std::string Store::export_json() {
  std::lock_guard lock(impl_->mu);
  sql::Txn snapshot(*impl_->db, "BEGIN");  // one consistent read of all tables
  ojson doc = {{"format", "spool-autotune"},
              {"format_version", kFormatVersion},
              {"schema_version", kSchemaVersion},
              {"exported_by_spool", std::string(spool_version())}};
  ojson& profiles = doc["launch_profiles"] = ojson::array();
  for (const ProfileRow& r : detail::list_profiles(*impl_)) {
    ojson j = device_json(r.device, r.spool_version);
    j["launch_ns"] = r.profile.launch_ns;
    j["record_setup_ns"] = r.profile.record_setup_ns;
    j["replay_ns"] = r.profile.replay_ns;
    j["persistent_setup_ns"] = r.profile.persistent_setup_ns;
    j["queue_item_ns"] = r.profile.queue_item_ns;
    j["samples"] = r.profile.samples;
    j["measured_at_unix"] = r.profile.measured_at_unix;
    profiles.push_back(std::move(j));
  }
  ojson& observations = doc["observations"] = ojson::array();
  for (const ObservationRow& r : detail::list_observations(*impl_, {})) {
    ojson j = kernel_json(r.device, r.spool_version, r.kernel, r.bucket, r.variant);
    j["count"] = r.observation.count;
    j["mean_ns"] = r.observation.mean_ns;
    j["m2"] = r.observation.m2;
    j["updated_at_unix"] = r.updated_at_unix;
    observations.push_back(std::move(j));
  }
  ojson& winners = doc["winners"] = ojson::array();
  for (const DecisionRow& r : detail::list_winners(*impl_, {})) {
    ojson j = kernel_json(r.device, r.spool_version, r.kernel, r.bucket, r.variant);
    j["decided_at_unix"] = r.at_unix;
    winners.push_back(std::move(j));
  }
  ojson& rejections = doc["rejections"] = ojson::array();
  for (const DecisionRow& r : detail::list_rejections(*impl_, {})) {
    ojson j = kernel_json(r.device, r.spool_version, r.kernel, r.bucket, r.variant);
    j["rejected_at_unix"] = r.at_unix;
    rejections.push_back(std::move(j));
  }
  snapshot.commit();
  return doc.dump(2) + "\n";
}

std::size_t Store::import_json(const std::string& text) {
  Parsed p;
  try {
    p = parse(text, impl_->path);  // validates everything before writing
  } catch (const nlohmann::json::exception& e) {
    // Every check above is explicit; this is the net under a missed one.
    throw Error("import_json", std::string("malformed document: ") + e.what() + "; nothing was imported", impl_->path);
  }
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  sql::Txn txn(db);
  for (const ProfileRow& r : p.profiles) {
    sql::Use s(db.stmt("INSERT OR REPLACE INTO launch_profiles (" SPOOL_AT_DEVICE_COLS
                       ", launch_ns, record_setup_ns, replay_ns, persistent_setup_ns, "
                       "queue_item_ns, samples, measured_at_unix) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    detail::bind_device(*s, r.device, r.spool_version);
    s->bind(7, r.profile.launch_ns).bind(8, r.profile.record_setup_ns);
    s->bind(9, r.profile.replay_ns).bind(10, r.profile.persistent_setup_ns);
    s->bind(11, r.profile.queue_item_ns).bind(12, static_cast<std::int64_t>(r.profile.samples));
    s->bind(13, r.profile.measured_at_unix);
    s->run();
  }
  for (const ObservationRow& r : p.observations) {
    sql::Use s(db.stmt("INSERT OR REPLACE INTO observations (" SPOOL_AT_KERNEL_COLS
                       ", variant, count, mean_ns, m2, updated_at_unix) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
    bind_row_kernel(*s, r.device, r.spool_version, r.kernel, r.bucket, r.variant);
    s->bind(12, static_cast<std::int64_t>(r.observation.count)).bind(13, r.observation.mean_ns);
    s->bind(14, r.observation.m2).bind(15, r.updated_at_unix);
    s->run();
  }
  for (const DecisionRow& r : p.winners) {
    insert_decision(db,
                    "INSERT OR REPLACE INTO winners (" SPOOL_AT_KERNEL_COLS
                    ", variant, decided_at_unix) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    r);
  }
  for (const DecisionRow& r : p.rejections) {
    insert_decision(db,
                    "INSERT OR REPLACE INTO rejections (" SPOOL_AT_KERNEL_COLS
                    ", variant, rejected_at_unix) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    r);
  }
  txn.commit();
  return p.profiles.size() + p.observations.size() + p.winners.size() + p.rejections.size();
}

}  // namespace spool::autotune
