// spool — command-line tool of the Spool runtime (docs/cli.md).
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return spool::cli::run_cli(args, std::cout, std::cerr);
}
