// spool autotune list | show KERNEL | clear | prune | export [FILE] | import FILE
//
// list, show and export read a snapshot and never change the store
// (autotune_access.hpp); clear, prune and import write it.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "autotune_access.hpp"
#include "cli.hpp"
#include "text.hpp"

namespace spool::cli {

namespace {

namespace at = spool::autotune;
using json = nlohmann::ordered_json;

json device_json(const at::DeviceKey& d, const std::string& spool) {
  return {{"backend", d.backend}, {"name", d.name},       {"uuid", d.uuid},
          {"driver", d.driver_version}, {"api", d.api_version}, {"spool", spool}};
}

std::string device_line(const at::DeviceKey& d, const std::string& spool) {
  return d.backend + " " + d.name + "  driver " + d.driver_version + "  api " + d.api_version + "  spool " + spool;
}

std::string pow2(unsigned v) { return "2^" + std::to_string(v); }

// A source hash short enough for a table column (full in show and --json).
std::string short_hash(const std::string& h) {
  const std::size_t keep = (h.rfind("sha256:", 0) == 0 ? 7 : 0) + 12;
  return h.size() > keep + 1 ? h.substr(0, keep) + "..." : h;
}

json stale_json(const std::string& why) { return why.empty() ? json(nullptr) : json(why); }
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// A time for a table cell, bounded in width whatever the file holds (a
// hand-edited row may hold 1e300, -5 or NaN): values outside the store's
// limits are printed as they are, in 3 significant digits.
std::string time_cell(double ns) {
  if (std::isfinite(ns) && ns >= 0 && ns <= at::kMaxNs) return duration(ns);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g ns", ns);
  return buf;
}

// A key string for text output; one longer than the store accepts is cut.
std::string clip(const std::string& s) {
  return s.size() <= at::kMaxKeyChars ? s : s.substr(0, 64) + "...(" + std::to_string(s.size()) + " chars)";
}

// Why a listed row breaks the store's limits ("" when it does not): such a
// row is never used (the store refuses to read it back) and is marked INVALID.
std::string time_problem(const char* field, std::int64_t t) {
  if (t >= 0 && t <= at::kMaxUnixTime) return {};
  return std::string("field '") + field + "' = " + std::to_string(t) + " is not in [0, " +
         std::to_string(at::kMaxUnixTime) + "]";
}
std::string first_of(std::initializer_list<std::string> problems) {
  for (const auto& p : problems) {
    if (!p.empty()) return p;
  }
  return {};
}
std::string invalid_reason(const at::ProfileRow& r) {
  return first_of({at::problem(r.device, r.spool_version), at::problem(r.profile)});
}
std::string invalid_reason(const at::ObservationRow& r) {
  return first_of({at::problem(r.device, r.spool_version), at::problem(r.kernel, r.bucket, r.variant),
                   at::problem(r.observation), time_problem("updated_at_unix", r.updated_at_unix)});
}
std::string invalid_reason(const at::DecisionRow& r) {
  return first_of({at::problem(r.device, r.spool_version), at::problem(r.kernel, r.bucket, r.variant),
                   time_problem("at_unix", r.at_unix)});
}
std::string invalid_mark(const std::string& why) { return why.empty() ? std::string() : "INVALID (" + why + ")"; }

// "INVALID (...)" and/or "STALE: reasons"; "-" for a current, valid row.
std::string marks(const std::string& invalid, const std::string& stale) {
  std::string m = invalid_mark(invalid);
  if (!stale.empty()) m += (m.empty() ? "" : "  ") + ("STALE: " + stale);
  return m.empty() ? "-" : m;
}

void print_notes(Context& ctx, const CurrentState& now) {
  for (const auto& n : now.notes) ctx.err << "spool: note: " << n << "\n";
}

// ---- list ----

int list(Context& ctx, bool as_json) {
  StoreSnapshot snap(ctx.db_path);
  at::Store& st = snap.store();
  const auto profiles = st.list_profiles();
  const CurrentState now = current_state(!profiles.empty() || !st.list_observations().empty() ||
                                         !st.list_winners().empty() || !st.list_rejections().empty());
  print_notes(ctx, now);
  struct Summary {
    std::set<std::string> variants;
    std::uint64_t samples = 0, winners = 0, rejections = 0, stale = 0, invalid = 0;
    std::set<std::string> why, problems;
  };
  std::map<std::pair<std::string, std::string>, Summary> kernels;
  const auto note = [&](const auto& r) {
    auto& s = kernels[{r.kernel.kernel, r.kernel.source_hash}];
    const auto why = combine_stale(stale_reasons(now, r.device, r.spool_version, &r.kernel), r.stale);
    if (!why.empty()) {
      s.stale += 1;
      s.why.insert(why.begin(), why.end());
    }
    if (std::string p = invalid_reason(r); !p.empty()) {
      s.invalid += 1;
      s.problems.insert(std::move(p));
    }
    return &s;
  };
  for (const auto& r : st.list_observations()) {
    Summary* s = note(r);
    s->variants.insert(r.variant);
    s->samples += r.observation.count;
  }
  for (const auto& r : st.list_winners()) note(r)->winners += 1;
  for (const auto& r : st.list_rejections()) note(r)->rejections += 1;
  const auto profile_stale = [&](const at::ProfileRow& p) {
    return join(combine_stale(stale_reasons(now, p.device, p.spool_version, nullptr), p.stale));
  };

  if (as_json) {
    json j;
    j["store"] = ctx.db_path;
    j["schema_version"] = st.schema_version();
    j["spool_version"] = now.spool_version;
    j["profiles"] = json::array();
    for (const auto& p : profiles) {
      j["profiles"].push_back({{"device", device_json(p.device, p.spool_version)},
                               {"launch_ns", p.profile.launch_ns},
                               {"record_setup_ns", p.profile.record_setup_ns},
                               {"replay_ns", p.profile.replay_ns},
                               {"persistent_setup_ns", p.profile.persistent_setup_ns},
                               {"queue_item_ns", p.profile.queue_item_ns},
                               {"samples", p.profile.samples},
                               {"measured_at_unix", p.profile.measured_at_unix},
                               {"stale", stale_json(profile_stale(p))},
                               {"invalid", text_or_null(invalid_reason(p))}});
    }
    j["kernels"] = json::array();
    for (const auto& [k, s] : kernels) {
      j["kernels"].push_back({{"kernel", k.first},
                              {"source_hash", k.second},
                              {"variants", s.variants.size()},
                              {"samples", s.samples},
                              {"winners", s.winners},
                              {"rejections", s.rejections},
                              {"stale_rows", s.stale},
                              {"stale_because", std::vector<std::string>(s.why.begin(), s.why.end())},
                              {"invalid_rows", s.invalid},
                              {"invalid_because", std::vector<std::string>(s.problems.begin(), s.problems.end())}});
    }
    j["notes"] = now.notes;
    ctx.out << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << "store: " << ctx.db_path << " (schema v" << st.schema_version() << "; this Spool: " << now.spool_version
          << ")\n";
  ctx.out << "launch profiles: " << profiles.size() << "\n";
  if (!profiles.empty()) {
    Table t({"device", "driver", "spool", "L", "R", "r", "P", "p", "measured", "marks"});
    for (const auto& p : profiles) {
      t.add({p.device.backend + " " + clip(p.device.name), clip(p.device.driver_version), clip(p.spool_version),
             time_cell(p.profile.launch_ns), time_cell(p.profile.record_setup_ns), time_cell(p.profile.replay_ns),
             time_cell(p.profile.persistent_setup_ns), time_cell(p.profile.queue_item_ns),
             utc(p.profile.measured_at_unix), marks(invalid_reason(p), profile_stale(p))});
    }
    t.print(ctx.out, "  ");
  }
  ctx.out << "kernels: " << kernels.size() << "\n";
  if (!kernels.empty()) {
    Table t({"kernel", "source", "variants", "samples", "winners", "rejected", "stale rows", "invalid rows"});
    for (const auto& [k, s] : kernels) {
      t.add({clip(k.first), short_hash(clip(k.second)), std::to_string(s.variants.size()), std::to_string(s.samples),
             std::to_string(s.winners), std::to_string(s.rejections), std::to_string(s.stale),
             std::to_string(s.invalid)});
    }
    t.print(ctx.out, "  ");
    for (const auto& [k, s] : kernels) {
      const std::string name = "  " + clip(k.first) + " " + clip(k.second) + ": ";
      if (!s.why.empty()) {
        ctx.out << name << "STALE: " << join(std::vector<std::string>(s.why.begin(), s.why.end())) << "\n";
      }
      for (const auto& p : s.problems) ctx.out << name << invalid_mark(p) << "\n";
    }
  }
  return kExitOk;
}

// ---- show ----

struct ShowRow {
  std::string state = "candidate";
  std::uint64_t count = 0;
  std::optional<double> mean, sd;
  std::int64_t updated = 0;
  std::string invalid;  // the first problem of the row's observation, winner or rejection
  std::string stored_stale;  // the store's judgement (the same for every row of a block)
};

int show(Context& ctx, const std::string& kernel, bool as_json) {
  StoreSnapshot snap(ctx.db_path);
  at::Store& st = snap.store();
  const auto obs = st.list_observations(kernel);
  const auto win = st.list_winners(kernel);
  const auto rej = st.list_rejections(kernel);
  if (obs.empty() && win.empty() && rej.empty()) {
    ctx.err << "spool: no entries for kernel '" << kernel << "' in " << ctx.db_path << "\n";
    return kExitFailure;
  }
  const CurrentState now = current_state();
  print_notes(ctx, now);
  // One row per (device, spool, source, bucket, variant), in key order.
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string,
                         unsigned, unsigned, std::string>;
  std::map<Key, ShowRow> rows;
  std::map<Key, std::pair<at::DeviceKey, at::KernelKey>> keys;
  const auto row = [&](const auto& r) -> ShowRow& {
    const Key k{r.device.backend, r.device.name, r.device.uuid, r.device.driver_version, r.device.api_version,
                r.spool_version, r.kernel.source_hash, r.bucket.log2_items, r.bucket.log2_grid, r.variant};
    keys.emplace(k, std::make_pair(r.device, r.kernel));
    ShowRow& s = rows[k];
    if (s.invalid.empty()) s.invalid = invalid_reason(r);
    if (s.stored_stale.empty()) s.stored_stale = r.stale;
    return s;
  };
  for (const auto& r : obs) {
    ShowRow& s = row(r);
    s.state = "racing";
    s.count = r.observation.count;
    s.mean = r.observation.mean_ns;
    if (r.observation.count >= 2) s.sd = std::sqrt(r.observation.variance());
    s.updated = r.updated_at_unix;
  }
  for (const auto& r : win) {
    ShowRow& s = row(r);
    s.state = "winner";
    s.updated = std::max(s.updated, r.at_unix);
  }
  for (const auto& r : rej) {
    ShowRow& s = row(r);
    s.state = "rejected";
    s.updated = std::max(s.updated, r.at_unix);
  }
  const auto stale_of = [&](const Key& k, const ShowRow& s) {
    const auto& [dk, kk] = keys.at(k);
    return join(combine_stale(stale_reasons(now, dk, std::get<5>(k), &kk), s.stored_stale));
  };
  const auto number = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };

  if (as_json) {
    json j;
    j["store"] = ctx.db_path;
    j["kernel"] = kernel;
    j["rows"] = json::array();
    for (const auto& [k, s] : rows) {
      const auto& [dk, kk] = keys.at(k);
      j["rows"].push_back({{"device", device_json(dk, std::get<5>(k))},
                           {"source_hash", kk.source_hash},
                           {"log2_items", std::get<7>(k)},
                           {"log2_grid", std::get<8>(k)},
                           {"variant", std::get<9>(k)},
                           {"state", s.state},
                           {"count", s.count},
                           {"mean_ns", number(s.mean)},
                           {"sd_ns", number(s.sd)},
                           {"updated_at_unix", s.updated},
                           {"stale", stale_json(stale_of(k, s))},
                           {"invalid", text_or_null(s.invalid)}});
    }
    ctx.out << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << "kernel " << clip(kernel) << " in " << ctx.db_path << "\n";
  std::string section;
  std::unique_ptr<Table> table;
  const auto flush = [&] {
    if (table) table->print(ctx.out, "    ");
    table.reset();
  };
  for (const auto& [k, s] : rows) {
    const auto& [dk, kk] = keys.at(k);
    const std::string head = device_line(dk, std::get<5>(k)) + "\n  source " + kk.source_hash;
    if (head != section) {
      flush();
      section = head;
      const std::string why = stale_of(k, s);
      ctx.out << "\n" << clip(device_line(dk, std::get<5>(k))) << "\n  uuid " << clip(dk.uuid) << "\n  source "
              << clip(kk.source_hash) << (why.empty() ? "" : "   STALE: " + why) << "\n";
      table = std::make_unique<Table>(std::vector<std::string>{"items", "grid", "variant", "state", "samples",
                                                               "mean/item", "sd", "updated", ""});
    }
    table->add({pow2(std::get<7>(k)), pow2(std::get<8>(k)), clip(std::get<9>(k)), s.state,
                s.count ? std::to_string(s.count) : "-", s.mean ? time_cell(*s.mean) : "-",
                s.sd ? time_cell(*s.sd) : "-", utc(s.updated), invalid_mark(s.invalid)});
  }
  flush();
  return kExitOk;
}

// ---- clear / prune ----

struct Scope {
  std::string kernel;
  std::string device;  // case-insensitive substring of the name, or the uuid
  bool matches_device(const at::DeviceKey& d) const {
    if (device.empty()) return true;
    const auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    return d.uuid == device || lower(d.name).find(lower(device)) != std::string::npos;
  }
};

at::RowSet select_rows(at::Store& st, const Scope& scope) {
  at::RowSet rows;
  if (scope.kernel.empty()) {
    for (auto& r : st.list_profiles()) {
      if (scope.matches_device(r.device)) rows.profiles.push_back(std::move(r));
    }
  }
  for (auto& r : st.list_observations(scope.kernel)) {
    if (scope.matches_device(r.device)) rows.observations.push_back(std::move(r));
  }
  for (auto& r : st.list_winners(scope.kernel)) {
    if (scope.matches_device(r.device)) rows.winners.push_back(std::move(r));
  }
  for (auto& r : st.list_rejections(scope.kernel)) {
    if (scope.matches_device(r.device)) rows.rejections.push_back(std::move(r));
  }
  return rows;
}

int clear(Context& ctx, const Scope& scope, bool all) {
  if (!all && scope.kernel.empty() && scope.device.empty()) {
    throw UsageError("clear needs a scope: --kernel NAME, --device NAME|UUID, or --all for every row");
  }
  if (all && (!scope.kernel.empty() || !scope.device.empty())) {
    throw UsageError("--all clears every row; it cannot be combined with --kernel or --device");
  }
  auto st = open_for_writing(ctx.db_path);
  if (all) {
    const std::size_t rows = st->list_profiles().size() + st->list_observations().size() +
                             st->list_winners().size() + st->list_rejections().size();
    st->clear();
    ctx.out << "cleared " << rows << " rows from " << ctx.db_path << "\n";
    return kExitOk;
  }
  const at::RowSet rows = select_rows(*st, scope);
  const std::size_t n = st->erase(rows);
  ctx.out << "cleared " << n << " rows (" << rows.profiles.size() << " profiles, " << rows.observations.size()
          << " observations, " << rows.winners.size() << " winners, " << rows.rejections.size()
          << " rejections) from " << ctx.db_path << "\n";
  return kExitOk;
}

struct PruneArgs {
  bool dry_run = false;
  std::optional<unsigned> older_than_days;
};

int prune(Context& ctx, const PruneArgs& a) {
  auto st = open_for_writing(ctx.db_path);
  const CurrentState now = current_state();
  print_notes(ctx, now);
  const std::int64_t now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::int64_t cutoff = a.older_than_days ? now_unix - std::int64_t{*a.older_than_days} * 86400 : 0;
  std::map<std::string, std::size_t> reasons;
  // Stale by this machine's judgement or the store's (current_keys), or
  // invalid (never used: the store refuses to read the row back).
  const auto judge = [&](const auto& r, const at::KernelKey* k, std::int64_t when) {
    std::string why = invalid_mark(invalid_reason(r));
    if (why.empty()) why = join(combine_stale(stale_reasons(now, r.device, r.spool_version, k), r.stale));
    if (why.empty() && a.older_than_days && when < cutoff) {
      why = "not updated for more than " + std::to_string(*a.older_than_days) + " days";
    }
    if (!why.empty()) reasons[why] += 1;
    return !why.empty();
  };
  at::RowSet rows;
  for (auto& r : st->list_profiles()) {
    if (judge(r, nullptr, r.profile.measured_at_unix)) rows.profiles.push_back(std::move(r));
  }
  for (auto& r : st->list_observations()) {
    if (judge(r, &r.kernel, r.updated_at_unix)) rows.observations.push_back(std::move(r));
  }
  for (auto& r : st->list_winners()) {
    if (judge(r, &r.kernel, r.at_unix)) rows.winners.push_back(std::move(r));
  }
  for (auto& r : st->list_rejections()) {
    if (judge(r, &r.kernel, r.at_unix)) rows.rejections.push_back(std::move(r));
  }
  const std::size_t n = a.dry_run ? rows.size() : st->erase(rows);
  ctx.out << (a.dry_run ? "would prune " : "pruned ") << n << " rows from " << ctx.db_path << "\n";
  for (const auto& [why, count] : reasons) ctx.out << "  " << count << " x " << why << "\n";
  return kExitOk;
}

// ---- export / import ----

int export_rows(Context& ctx, const std::string& file) {
  StoreSnapshot snap(ctx.db_path);
  const std::string text = snap.store().export_json();
  if (file.empty() || file == "-") {
    ctx.out << text;
    return kExitOk;
  }
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  if (f) f << text;
  f.close();
  if (!f) {
    ctx.err << "spool: error: cannot write '" << file << "'\n";
    return kExitFailure;
  }
  ctx.out << "exported " << ctx.db_path << " to " << file << "\n";
  return kExitOk;
}

int import_rows(Context& ctx, const std::string& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    ctx.err << "spool: error: cannot read '" << file << "'\n";
    return kExitFailure;
  }
  std::ostringstream text;
  text << f.rdbuf();
  auto st = open_for_writing(ctx.db_path);
  const std::size_t n = st->import_json(text.str());
  ctx.out << "imported " << n << " rows from " << file << " into " << ctx.db_path << "\n";
  return kExitOk;
}

}  // namespace

void add_autotune(CLI::App& app, Context& ctx) {
  auto* tune = app.add_subcommand("autotune", "inspect, clear, prune, export and import the autotune store");
  tune->require_subcommand(1);
  tune->footer("list, show and export never change the store (they read a copy). Store: --db.\n"
               "Exit status: 0 success, 1 the command failed, 2 wrong arguments. docs/autotune.md.");

  auto list_json = std::make_shared<bool>(false);
  auto* l = tune->add_subcommand("list", "launch profiles and one line per kernel source, stale and invalid rows marked");
  l->add_flag("--json", *list_json, "print JSON");
  l->callback([&ctx, list_json] { ctx.rc = list(ctx, *list_json); });

  auto show_kernel = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  auto* s = tune->add_subcommand("show", "every variant of a kernel: state, samples, mean time, stale or not");
  s->add_option("kernel", *show_kernel, "kernel name")->required()->check(CLI::Validator(
      [](std::string& v) { return v.empty() ? std::string("the kernel name is empty") : std::string(); }, ""));
  s->add_flag("--json", *show_json, "print JSON");
  s->callback([&ctx, show_kernel, show_json] { ctx.rc = show(ctx, *show_kernel, *show_json); });

  auto scope = std::make_shared<Scope>();
  auto all = std::make_shared<bool>(false);
  auto* c = tune->add_subcommand("clear", "delete the rows of a kernel and/or a device (or --all)");
  c->add_option("--kernel,-k", scope->kernel, "only rows of this kernel")->type_name("NAME");
  c->add_option("--device,-d", scope->device, "only rows of devices whose name contains this (or this uuid)")
      ->type_name("NAME|UUID");
  c->add_flag("--all", *all, "delete every row of every table");
  c->callback([&ctx, scope, all] { ctx.rc = clear(ctx, *scope, *all); });

  auto pa = std::make_shared<PruneArgs>();
  auto* p = tune->add_subcommand(
      "prune", "delete stale rows (another Spool version, driver or kernel source than this machine's now or "
               "the latest run's) and rows that break the store's limits");
  p->add_flag("--dry-run,-n", pa->dry_run, "only say what would be deleted");
  p->add_option("--older-than", pa->older_than_days, "also delete rows not updated for this many days")
      ->type_name("DAYS")
      ->check(CLI::Range(1u, 36500u));
  p->callback([&ctx, pa] { ctx.rc = prune(ctx, *pa); });

  auto efile = std::make_shared<std::string>();
  auto* e = tune->add_subcommand("export", "write every row as JSON (default: standard output)");
  e->add_option("file", *efile, "file to write, - for standard output")->type_name("FILE");
  e->callback([&ctx, efile] { ctx.rc = export_rows(ctx, *efile); });

  auto ifile = std::make_shared<std::string>();
  auto* i = tune->add_subcommand("import", "read rows from a JSON export; rows with the same key are replaced");
  i->add_option("file", *ifile, "an export of `spool autotune export`")->required()->type_name("FILE");
  i->callback([&ctx, ifile] { ctx.rc = import_rows(ctx, *ifile); });
}

}  // namespace spool::cli
