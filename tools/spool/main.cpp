// spool — command-line tool of the Spool runtime.
//   spool [--db PATH] <command> [args...]     spool --help     spool <command> --help
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "command.hpp"
#include "spool/autotune/store.hpp"

namespace {

using spool::cli::Command;

void print_help(std::ostream& os) {
  os << "Usage: spool [--db PATH] <command> [arguments]\n"
        "\n"
        "Command-line tool of the Spool GPU kernel launch runtime.\n"
        "\n"
        "Commands:\n";
  for (const Command& c : spool::cli::commands()) {
    os << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ')
       << c.summary << "\n";
  }
  os << "\n"
        "Options:\n"
        "  --db PATH   the autotune store (default: $SPOOL_AUTOTUNE_DB, else\n"
        "              $XDG_CACHE_HOME/spool/autotune.sqlite, else ~/.cache/spool/autotune.sqlite;\n"
        "              here: "
     << spool::autotune::Store::default_path()
     << ")\n"
        "  --version   print the Spool version\n"
        "  -h, --help  this text; `spool <command> --help` for a command's own\n"
        "\n"
        "Exit status: 0 success, 1 the command failed, 2 wrong arguments.\n";
}

int run(std::vector<std::string> args) {
  spool::cli::Context ctx{spool::autotune::Store::default_path(), std::cout, std::cerr};
  // --db may appear anywhere; everything else goes to the subcommand.
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--db") {
      if (i + 1 >= args.size()) throw spool::cli::UsageError("--db needs a PATH");
      ctx.db_path = args[++i];
      if (ctx.db_path.empty()) throw spool::cli::UsageError("--db needs a non-empty PATH");
    } else if (a.rfind("--db=", 0) == 0) {
      ctx.db_path = a.substr(5);
      if (ctx.db_path.empty()) throw spool::cli::UsageError("--db needs a non-empty PATH");
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) throw spool::cli::UsageError("no command given");
  const std::string& name = rest.front();
  if (name == "-h" || name == "--help" || name == "help") {
    print_help(std::cout);
    return spool::cli::kExitOk;
  }
  if (name == "--version") {
    std::cout << "spool " << spool::autotune::spool_version() << "\n";
    return spool::cli::kExitOk;
  }
  for (const Command& c : spool::cli::commands()) {
    if (c.name != name) continue;
    const spool::cli::Args sub(rest.data() + 1, rest.size() - 1);
    if (!sub.empty() && (sub.front() == "-h" || sub.front() == "--help")) {
      std::cout << c.usage;
      return spool::cli::kExitOk;
    }
    return c.run(ctx, sub);
  }
  if (!name.empty() && name.front() == '-') throw spool::cli::UsageError("unknown option '" + name + "'");
  throw spool::cli::UsageError("unknown command '" + name + "'");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const spool::cli::UsageError& e) {
    std::cerr << "spool: " << e.what() << "\nRun 'spool --help' for usage.\n";
    return spool::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "spool: error: " << e.what() << "\n";
    return spool::cli::kExitFailure;
  }
}
