// spool [--db PATH] <command> ...: the CLI11 application and its exit codes.
#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <ostream>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"
#include "text.hpp"

namespace spool::cli {

namespace {

// "spool autotune list" for the deepest command the parser got to.
std::string command_path(const CLI::App& app) {
  std::string path = "spool";
  const CLI::App* at = &app;
  for (;;) {
    const auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    path += " " + at->get_name();
  }
  return path;
}

}  // namespace

int run_cli(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  Context ctx{autotune::Store::default_path(), out, err};
  CLI::App app{"Command-line tool of the Spool GPU kernel launch runtime.", "spool"};
  app.fallthrough();  // --db is accepted after the command's name too
  app.require_subcommand(1);
  app.set_version_flag("--version", "spool " + std::string(autotune::spool_version()));
  app.add_option("--db", ctx.db_path,
                 "the autotune store (default: $SPOOL_AUTOTUNE_DB, else the XDG cache; here: " +
                     ctx.db_path + ")")
      ->type_name("PATH")
      ->check(CLI::Validator(
          [](std::string& v) { return v.empty() ? std::string("--db needs a non-empty PATH") : std::string(); },
          ""));
  app.footer(
      "Run 'spool <command> --help' for a command's own options.\n"
      "Exit status: 0 success, 1 the command failed, 2 wrong arguments.\n"
      "Documentation: docs/cli.md, docs/options.md, docs/telemetry.md.");

  add_devices(app, ctx);
  add_calibrate(app, ctx);
  add_run(app, ctx);
  add_options(app, ctx);
  add_telemetry(app, ctx);
  add_autotune(app, ctx);

  std::vector<const char*> argv{"spool"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, out, err);  // --help, --version
      return kExitOk;
    }
    err << "spool: " << e.what() << "\nRun '" << command_path(app) << " --help' for usage.\n";
    return kExitUsage;
  } catch (const UsageError& e) {
    err << "spool: " << e.what() << "\nRun '" << command_path(app) << " --help' for usage.\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "spool: error: " << for_people(e) << "\n";
    return kExitFailure;
  }
  return ctx.rc;
}

}  // namespace spool::cli
