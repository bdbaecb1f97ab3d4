// spool options [--json]: every SPOOL_* variable with its default, its value
// here and whether that value is accepted (the runtime's own options table).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

#include "cli.hpp"
#include "spool/error.hpp"
#include "spool/options.hpp"
#include "text.hpp"

namespace spool::cli {

namespace {

struct Row {
  const options::Option* option;
  std::optional<std::string> value;  // from the environment
  std::string problem;               // why the value is rejected
};

int run_options(Context& ctx, bool json) {
  std::vector<Row> rows;
  bool bad = false;
  for (const options::Option& o : options::table()) {
    Row r{&o, options::env_value(o.name), {}};
    if (r.value) {
      try {
        options::Settings s;
        options::apply(s, o.name, *r.value);
      } catch (const Error& e) {
        r.problem = for_people(e);
        bad = true;
      }
    }
    rows.push_back(std::move(r));
  }
  if (json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const Row& r : rows) {
      nlohmann::ordered_json o;
      o["name"] = r.option->name;
      o["default"] = r.option->fallback;
      o["value"] = r.value ? nlohmann::ordered_json(*r.value) : nlohmann::ordered_json(nullptr);
      o["valid"] = r.problem.empty();
      if (!r.problem.empty()) o["error"] = r.problem;
      o["accepted"] = r.option->accepted;
      o["meaning"] = r.option->help;
      j.push_back(o);
    }
    ctx.out << j.dump(2) << "\n";
    return bad ? kExitFailure : kExitOk;
  }
  for (const Row& r : rows) {
    ctx.out << r.option->name << "\n";
    ctx.out << "    " << r.option->help << "\n";
    ctx.out << "    default: " << (r.option->fallback.empty() ? "(unset)" : std::string(r.option->fallback))
            << "   now: " << (r.value ? *r.value : "(default)") << (r.problem.empty() ? "" : "   INVALID")
            << "\n";
    ctx.out << "    accepted: " << r.option->accepted << "\n";
    if (!r.problem.empty()) ctx.out << "    error: " << r.problem << "\n";
  }
  ctx.out << "\nAn unset or empty variable means its default. Details: docs/options.md.\n";
  return bad ? kExitFailure : kExitOk;
}

}  // namespace

void add_options(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("options", "list every SPOOL_* variable: default, current value, meaning");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON instead of text");
  cmd->footer("Exit status: 0 every value set is accepted, 1 at least one is not (it is named).");
  cmd->callback([&ctx, json] { ctx.rc = run_options(ctx, *json); });
}

}  // namespace spool::cli
