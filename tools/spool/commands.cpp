#include <array>

#include "command.hpp"

namespace spool::cli {

namespace {
const std::array kCommands{
    Command{"autotune", "inspect, clear, export and import the autotune store", kAutotuneUsage,
            run_autotune},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace spool::cli
