// `spool telemetry plot`: a gnuplot script (data inline) with two panels,
// (1) per-item time against batch size for each mode, the policy's automatic
// choices marked, and (2) predicted against measured batch time; and running
// gnuplot on it.
#pragma once

#include <string>
#include <vector>

#include "telemetry_reader.hpp"

namespace spool::cli {

// The complete script; `output` decides the terminal (.png: pngcairo, .svg: svg).
// Throws std::invalid_argument when there is nothing to plot or the
// extension is neither.
std::string gnuplot_script(const std::vector<TelemetryEvent>& events, const std::string& output,
                           const std::string& title);

// Runs `gnuplot` (from PATH) on `script`. Throws std::runtime_error with
// gnuplot's own messages when it is missing or fails.
void run_gnuplot(const std::string& script);

}  // namespace spool::cli
