// spool telemetry summarize|trace|plot FILE: reads verdict telemetry (JSON
// Lines) and shows it as a summary, a Chrome/Perfetto trace or a plot.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

#include "cli.hpp"
#include "telemetry_plot.hpp"
#include "telemetry_reader.hpp"
#include "telemetry_summary.hpp"
#include "telemetry_trace.hpp"

namespace spool::cli {

namespace {

struct TelemetryArgs {
  std::string file;
  std::string output;
  std::string script;
  bool json = false;
  bool skip_invalid = false;
};

std::string shown(const std::string& file) { return file == "-" ? "<stdin>" : file; }

TelemetryLog load(Context& ctx, const TelemetryArgs& a) {
  TelemetryLog log = read_telemetry_file(a.file, a.skip_invalid);
  for (const auto& e : log.skipped) ctx.err << "spool: skipped " << e.what() << "\n";
  return log;
}

// Writes `text` to `path` through a temporary file and a rename, so an
// existing file is replaced whole or not at all.
void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-spool";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (f) f << text;
    f.close();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("cannot write '" + path + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("cannot write '" + path + "': " + ec.message());
  }
}

int summarize_cmd(Context& ctx, const TelemetryArgs& a) {
  const TelemetryLog log = load(ctx, a);
  const Summary s = summarize(log);
  if (a.json) {
    ctx.out << summary_json(s, shown(a.file)) << "\n";
  } else {
    print_summary(ctx.out, s, shown(a.file));
  }
  return kExitOk;
}

int trace_cmd(Context& ctx, const TelemetryArgs& a) {
  const TelemetryLog log = load(ctx, a);
  const std::string trace = chrome_trace(log.events);
  if (a.output == "-") {
    ctx.out << trace << "\n";
    return kExitOk;
  }
  write_file(a.output, trace + "\n");
  ctx.out << "wrote " << log.events.size() << " batches to " << a.output
          << " (open it in https://ui.perfetto.dev or chrome://tracing)\n";
  return kExitOk;
}

int plot_cmd(Context& ctx, const TelemetryArgs& a) {
  const TelemetryLog log = load(ctx, a);
  std::string script;
  try {
    script = gnuplot_script(log.events, a.output, "spool telemetry: " + shown(a.file));
  } catch (const std::invalid_argument& e) {
    ctx.err << "spool: error: " << e.what() << "\n";
    return kExitFailure;
  }
  if (!a.script.empty()) {
    write_file(a.script, script);
    ctx.out << "wrote the gnuplot script to " << a.script << " (run: gnuplot " << a.script << ")\n";
    return kExitOk;
  }
  run_gnuplot(script);
  ctx.out << "wrote " << a.output << " (" << log.events.size() << " batches)\n";
  return kExitOk;
}

CLI::App* file_command(CLI::App& parent, const char* name, const char* help, TelemetryArgs& a) {
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("file", a.file, "telemetry file (JSON Lines, as SPOOL_TELEMETRY writes it); - for stdin")
      ->required()
      ->type_name("FILE");
  cmd->add_flag("--skip-invalid", a.skip_invalid,
                "skip lines that are not valid events (each is reported on stderr) instead of failing");
  return cmd;
}

}  // namespace

void add_telemetry(CLI::App& app, Context& ctx) {
  auto* tel = app.add_subcommand("telemetry", "summarize, trace or plot a verdict telemetry file");
  tel->require_subcommand(1);
  tel->footer("Exit status: 0 success, 1 the file is unreadable or has an invalid line (named with its\n"
              "line number), 2 wrong arguments. Format: docs/telemetry.md.");

  auto sa = std::make_shared<TelemetryArgs>();
  auto* sum = file_command(*tel, "summarize",
                           "per kernel and mode: batches, items, time percentiles, prediction error, "
                           "mispredictions, failures",
                           *sa);
  sum->add_flag("--json", sa->json, "print JSON instead of tables");
  sum->callback([&ctx, sa] { ctx.rc = summarize_cmd(ctx, *sa); });

  auto ta = std::make_shared<TelemetryArgs>();
  auto* tr = file_command(*tel, "trace", "write a Chrome trace-event file (ui.perfetto.dev)", *ta);
  tr->add_option("-o,--output", ta->output, "trace file to write (- for stdout)")->required()->type_name("FILE");
  tr->callback([&ctx, ta] { ctx.rc = trace_cmd(ctx, *ta); });

  auto pa = std::make_shared<TelemetryArgs>();
  auto* pl = file_command(*tel, "plot",
                          "plot per-item time against batch size per mode, and predicted against measured "
                          "(gnuplot)",
                          *pa);
  pl->add_option("-o,--output", pa->output, "image to write: .png or .svg")->required()->type_name("FILE");
  pl->add_option("--script", pa->script, "write the gnuplot script (data inline) here instead of running gnuplot")
      ->type_name("FILE");
  pl->callback([&ctx, pa] { ctx.rc = plot_cmd(ctx, *pa); });
}

}  // namespace spool::cli
