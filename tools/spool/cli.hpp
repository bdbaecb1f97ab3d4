// The `spool` command line, callable as a function (main.cpp, tests, fuzzing).
//
// Each command lives in its own <name>_command.cpp and registers itself on
// the CLI11 application through add_<name>(); cli.cpp lists them.
#pragma once

#include <iosfwd>
#include <span>
#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace spool::cli {

// Exit status of every command (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (or found a problem)
inline constexpr int kExitUsage = 2;    // wrong arguments

// Wrong arguments found after parsing (e.g. an unknown kernel name); printed
// with a pointer to --help, exit kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What every command gets.
struct Context {
  std::string db_path;  // --db PATH, default spool::autotune::Store::default_path()
  std::ostream& out;    // results (tables, JSON)
  std::ostream& err;    // progress, warnings, errors
  int rc = kExitOk;     // set by the command that ran
};

// Runs `spool <args...>` (args exclude the program name) and returns the exit status.
int run_cli(std::span<const std::string> args, std::ostream& out, std::ostream& err);

// Registration of each command (in the order `spool --help` lists them).
void add_devices(CLI::App& app, Context& ctx);
void add_calibrate(CLI::App& app, Context& ctx);
void add_run(CLI::App& app, Context& ctx);
void add_options(CLI::App& app, Context& ctx);
void add_telemetry(CLI::App& app, Context& ctx);
void add_autotune(CLI::App& app, Context& ctx);

}  // namespace spool::cli
