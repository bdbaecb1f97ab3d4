// `spool telemetry trace`: verdict events as Chrome trace-event JSON, which
// ui.perfetto.dev and chrome://tracing open. One process per (run, device),
// one track per launch mode (more lanes where batches overlap), one slice per
// batch with its queue wait and its execution as children, the verdict's
// fields as arguments.
#pragma once

#include <string>
#include <vector>

#include "telemetry_reader.hpp"

namespace spool::cli {

// The whole trace document ({"traceEvents": [...], ...}) as text.
std::string chrome_trace(const std::vector<TelemetryEvent>& events);

}  // namespace spool::cli
