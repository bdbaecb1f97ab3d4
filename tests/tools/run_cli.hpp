// Runs `spool` in process (spool::cli::run_cli) and keeps what it printed:
// the CLI tests' one way to call the command.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"

namespace {

struct Result {
  int rc = -1;
  std::string out, err;
};

inline Result spool_cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  Result r;
  r.rc = spool::cli::run_cli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace
