// The `spool` command line: a table of subcommands, one .cpp each.
//
// To add a subcommand: write <name>_command.cpp defining
//   int run_<name>(Context&, Args);  and  extern const char* const k<Name>Usage;
// declare them below, add one row to the table in commands.cpp and the file
// to tools/spool/CMakeLists.txt.
#pragma once

#include <iosfwd>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace spool::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;    // wrong arguments

// Thrown for wrong arguments; main prints it with a pointer to --help and exits kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Options shared by every subcommand, parsed by main before dispatch.
struct Context {
  std::string db_path;  // --db PATH, default spool::autotune::Store::default_path()
  std::ostream& out;
  std::ostream& err;
};

using Args = std::span<const std::string>;  // the arguments after the subcommand's name

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `spool --help`
  std::string_view usage;    // full text for `spool <name> --help`
  int (*run)(Context&, Args);
};

// The dispatch table, in the order `spool --help` lists it.
std::span<const Command> commands();

// Subcommands.
extern const char* const kAutotuneUsage;
int run_autotune(Context& ctx, Args args);

}  // namespace spool::cli
