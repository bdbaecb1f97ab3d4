// spool autotune list | show <kernel> | clear | export [file] | import <file>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>

#include "command.hpp"
#include "spool/autotune/store.hpp"

namespace spool::cli {

const char* const kAutotuneUsage =
    "Usage: spool [--db PATH] autotune <subcommand>\n"
    "\n"
    "Inspect and move the autotune store (docs/autotune.md).\n"
    "\n"
    "Subcommands:\n"
    "  list             launch profiles and one line per kernel (source hash); rows the\n"
    "                   latest run of this device or kernel did not use are marked STALE\n"
    "  show <kernel>    every observation, winner and rejection of a kernel\n"
    "  clear            delete every row of the store\n"
    "  export [file]    write all rows as JSON to file (default: standard output)\n"
    "  import <file>    read rows from a JSON export; rows with the same key are replaced\n";

namespace {

namespace at = spool::autotune;

struct Opened {
  std::unique_ptr<at::Store> store;
  std::string shown_path;  // what the user asked for
};

// Read-only subcommands open the store read-only (they change nothing, not
// even the schema version) and use an empty in-memory store for a missing
// file rather than creating it. A store that fell back to memory because its
// file is corrupt is a failure: the warning says where the file went.
Opened open_store(const Context& ctx, bool writes) {
  std::error_code ec;
  const bool memory = ctx.db_path == ":memory:" || ctx.db_path.empty();
  const bool missing = !memory && !std::filesystem::exists(ctx.db_path, ec);
  std::string warning;
  at::OpenOptions options;
  options.read_only = !writes && !memory && !missing;
  auto store = at::Store::open(!writes && missing ? std::string(":memory:") : ctx.db_path, options, &warning);
  if (!warning.empty()) throw std::runtime_error(warning);
  return Opened{std::move(store), ctx.db_path};
}

std::string when(std::int64_t unix_time) {
  if (unix_time <= 0) return "-";
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_time);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string device(const at::DeviceKey& d, const std::string& spool) {
  return d.backend + " '" + d.name + "' uuid=" + d.uuid + " driver=" + d.driver_version +
         " api=" + d.api_version + " spool=" + spool;
}

std::string bucket(at::ShapeBucket b) {
  return "items=2^" + std::to_string(b.log2_items) + " grid=2^" + std::to_string(b.log2_grid);
}

// Bounded width whatever the file holds (a hand-edited row may hold 1e300).
std::string ns(double v) {
  std::ostringstream os;
  if (std::isfinite(v) && std::fabs(v) < 1e9) {
    os << std::fixed << std::setprecision(std::fabs(v) < 100 ? 2 : 0) << v << " ns";
  } else {
    os << std::setprecision(3) << v << " ns";
  }
  return os.str();
}

// " STALE (driver 1.2 != 1.3 (current))" for a row the latest process did not use.
std::string stale(const std::string& why) { return why.empty() ? std::string() : " STALE (" + why + ")"; }

// " INVALID (field ...)" for a row that breaks the store's limits (never used).
std::string invalid(const std::string& why) { return why.empty() ? std::string() : " INVALID (" + why + ")"; }

void expect_args(Args args, std::size_t n, const char* usage) {
  if (args.size() != n) throw UsageError(std::string("usage: spool autotune ") + usage);
}

int list(const Context& ctx, Args args) {
  expect_args(args, 0, "list");
  const Opened o = open_store(ctx, false);
  ctx.out << "store: " << o.shown_path << " (schema v" << o.store->schema_version()
          << "; this Spool: " << at::spool_version() << ")\n";
  const auto profiles = o.store->list_profiles();
  ctx.out << "launch profiles: " << profiles.size() << "\n";
  for (const auto& p : profiles) {
    ctx.out << "  " << device(p.device, p.spool_version) << ": L=" << ns(p.profile.launch_ns)
            << " R=" << ns(p.profile.record_setup_ns) << " r=" << ns(p.profile.replay_ns)
            << " P=" << ns(p.profile.persistent_setup_ns) << " p=" << ns(p.profile.queue_item_ns)
            << " samples=" << p.profile.samples << " measured=" << when(p.profile.measured_at_unix)
            << invalid(at::problem(p.profile)) << stale(p.stale) << "\n";
  }
  struct Summary {
    std::uint64_t variants = 0, samples = 0, winners = 0, rejections = 0, stale_rows = 0;
    std::string stale;  // the first reason
  };
  std::map<std::tuple<std::string, std::string>, Summary> kernels;
  const auto note_stale = [](Summary& s, const std::string& why) {
    if (why.empty()) return;
    s.stale_rows += 1;
    if (s.stale.empty()) s.stale = why;
  };
  for (const auto& r : o.store->list_observations()) {
    auto& s = kernels[{r.kernel.kernel, r.kernel.source_hash}];
    s.variants += 1;
    s.samples += r.observation.count;
    note_stale(s, r.stale);
  }
  for (const auto& r : o.store->list_winners()) {
    auto& s = kernels[{r.kernel.kernel, r.kernel.source_hash}];
    s.winners += 1;
    note_stale(s, r.stale);
  }
  for (const auto& r : o.store->list_rejections()) {
    auto& s = kernels[{r.kernel.kernel, r.kernel.source_hash}];
    s.rejections += 1;
    note_stale(s, r.stale);
  }
  ctx.out << "kernels: " << kernels.size() << "\n";
  for (const auto& [key, s] : kernels) {
    ctx.out << "  " << std::get<0>(key) << " source=" << std::get<1>(key)
            << " variants=" << s.variants << " samples=" << s.samples << " winners=" << s.winners
            << " rejected=" << s.rejections;
    if (s.stale_rows != 0) ctx.out << " STALE: " << s.stale_rows << " rows (" << s.stale << ")";
    ctx.out << "\n";
  }
  return kExitOk;
}

int show(const Context& ctx, Args args) {
  expect_args(args, 1, "show <kernel>");
  const std::string& kernel = args[0];
  if (kernel.empty()) throw UsageError("show: the kernel name is empty");
  const Opened o = open_store(ctx, false);
  const auto obs = o.store->list_observations(kernel);
  const auto win = o.store->list_winners(kernel);
  const auto rej = o.store->list_rejections(kernel);
  if (obs.empty() && win.empty() && rej.empty()) {
    ctx.err << "spool: no entries for kernel '" << kernel << "' in " << o.shown_path << "\n";
    return kExitFailure;
  }
  ctx.out << "kernel " << kernel << " in " << o.shown_path << "\n";
  ctx.out << "observations: " << obs.size() << "\n";
  for (const auto& r : obs) {
    ctx.out << "  " << device(r.device, r.spool_version) << " source=" << r.kernel.source_hash
            << " " << bucket(r.bucket) << " variant=" << r.variant
            << ": n=" << r.observation.count << " mean=" << ns(r.observation.mean_ns)
            << " sd=" << ns(std::sqrt(r.observation.variance()))
            << " updated=" << when(r.updated_at_unix) << invalid(at::problem(r.observation))
            << stale(r.stale) << "\n";
  }
  ctx.out << "winners: " << win.size() << "\n";
  for (const auto& r : win) {
    ctx.out << "  " << device(r.device, r.spool_version) << " source=" << r.kernel.source_hash
            << " " << bucket(r.bucket) << " -> " << r.variant << " (decided " << when(r.at_unix)
            << ")" << stale(r.stale) << "\n";
  }
  ctx.out << "rejections: " << rej.size() << "\n";
  for (const auto& r : rej) {
    ctx.out << "  " << device(r.device, r.spool_version) << " source=" << r.kernel.source_hash
            << " " << bucket(r.bucket) << " variant=" << r.variant << " (rejected "
            << when(r.at_unix) << ")" << stale(r.stale) << "\n";
  }
  return kExitOk;
}

int clear(const Context& ctx, Args args) {
  expect_args(args, 0, "clear");
  const Opened o = open_store(ctx, true);
  const std::size_t rows = o.store->list_profiles().size() + o.store->list_observations().size() +
                           o.store->list_winners().size() + o.store->list_rejections().size();
  o.store->clear();
  ctx.out << "cleared " << rows << " rows from " << o.shown_path << "\n";
  return kExitOk;
}

int export_rows(const Context& ctx, Args args) {
  if (args.size() > 1) throw UsageError("usage: spool autotune export [file]");
  const Opened o = open_store(ctx, false);
  const std::string json = o.store->export_json();
  if (args.empty() || args[0] == "-") {
    ctx.out << json;
    return kExitOk;
  }
  std::ofstream f(args[0], std::ios::binary | std::ios::trunc);
  if (f) f << json;
  f.close();
  if (!f) {
    ctx.err << "spool: error: cannot write '" << args[0] << "'\n";
    return kExitFailure;
  }
  ctx.out << "exported " << o.shown_path << " to " << args[0] << "\n";
  return kExitOk;
}

int import_rows(const Context& ctx, Args args) {
  expect_args(args, 1, "import <file>");
  std::ifstream f(args[0], std::ios::binary);
  if (!f) {
    ctx.err << "spool: error: cannot read '" << args[0] << "'\n";
    return kExitFailure;
  }
  std::ostringstream text;
  text << f.rdbuf();
  const Opened o = open_store(ctx, true);
  const std::size_t n = o.store->import_json(text.str());
  ctx.out << "imported " << n << " rows from " << args[0] << " into " << o.shown_path << "\n";
  return kExitOk;
}

}  // namespace

int run_autotune(Context& ctx, Args args) {
  if (args.empty()) throw UsageError("autotune: missing subcommand (list, show, clear, export, import)");
  const std::string& sub = args[0];
  const Args rest = args.subspan(1);
  if (rest.size() == 1 && (rest[0] == "-h" || rest[0] == "--help")) {
    ctx.out << kAutotuneUsage;
    return kExitOk;
  }
  if (sub == "list") return list(ctx, rest);
  if (sub == "show") return show(ctx, rest);
  if (sub == "clear") return clear(ctx, rest);
  if (sub == "export") return export_rows(ctx, rest);
  if (sub == "import") return import_rows(ctx, rest);
  throw UsageError("autotune: unknown subcommand '" + sub + "'");
}

}  // namespace spool::cli
