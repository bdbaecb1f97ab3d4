// spool run KERNEL [--items N] [--grid G] [--mode M]: one smoke batch of a
// built-in kernel on a device; prints its verdict and checks its results
// against the CPU.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>
#include <string>

#include "cli.hpp"
#include "device_access.hpp"
#include "smoke.hpp"
#include "text.hpp"

namespace spool::cli {

namespace {

constexpr std::uint64_t kMaxInvocations = std::uint64_t{1} << 24;

struct RunArgs {
  std::string kernel;
  std::uint32_t items = 64;
  std::uint32_t grid = 64;
  std::string mode = "auto";
  std::optional<std::string> device;
  std::optional<std::string> telemetry;
  bool json = false;
};

std::string mode_line(const Verdict& v) {
  std::string s(policy::to_string(v.mode));
  if (v.forced) return s + " (forced)";
  if (v.exploration) return s + " (exploring: re-measuring a stale estimate)";
  return s + " (chosen by the policy)";
}

int run_run(Context& ctx, const RunArgs& a) {
  if (std::uint64_t{a.items} * a.grid > kMaxInvocations) {
    throw UsageError("--items x --grid = " + std::to_string(std::uint64_t{a.items} * a.grid) +
                     " invocations; at most " + std::to_string(kMaxInvocations) + " in a smoke batch");
  }
  RuntimeOptions ro;
  ro.device_options.autotune_db = ctx.db_path;
  if (a.telemetry) ro.device_options.telemetry_path = *a.telemetry;
  Runtime rt = make_runtime(ro);
  const std::size_t index = pick_device(rt, a.device);
  auto dev = rt.open(index);
  const auto builtins = dev->builtin_kernels();
  if (std::find(builtins.begin(), builtins.end(), a.kernel) == builtins.end()) {
    std::string known;
    for (const auto& k : builtins) known += (known.empty() ? "" : ", ") + k;
    throw UsageError("unknown kernel '" + a.kernel + "' (built-in kernels of " + dev->name() + ": " + known + ")");
  }
  SmokeBatch s = smoke_batch(*dev, a.kernel, a.items, a.grid);
  SubmitOptions so;
  if (a.mode != "auto") {
    LaunchMode m{};
    if (!policy::parse_launch_mode(a.mode, m)) throw UsageError("--mode " + a.mode + " is not a launch mode");
    so.force_mode = m;
  }
  const Verdict v = dev->run(std::move(s.batch), so);
  const std::string problem = v.ok() ? s.check() : v.failure;
  const bool ok = v.ok() && problem.empty();

  if (a.json) {
    nlohmann::ordered_json j;
    j["verdict"] = nlohmann::ordered_json::parse(to_json(v));
    j["check"] = ok ? "ok" : problem;
    ctx.out << j.dump(2) << "\n";
    return ok ? kExitOk : kExitFailure;
  }
  const LaunchProfile p = dev->profile();
  ctx.out << "device " << index << ": " << dev->name() << " (" << to_string(dev->backend())
          << "), launch profile: " << p.source << (p.validation.empty() ? "" : " (" + p.validation + ")") << "\n";
  ctx.out << "batch " << v.batch_id << ": " << v.kernel << " " << v.variant << ", " << v.items << " items x "
          << a.grid << " invocations; " << s.what << "\n";
  Table t({"", ""});
  t.add({"mode", mode_line(v)});
  std::string pred;
  for (std::size_t m = 0; m < 3; ++m) {
    pred += (m ? "  " : "") + std::string(policy::to_string(static_cast<LaunchMode>(m))) + " " +
            (v.predicted_ns[m] < 0 ? std::string("unavailable") : duration(v.predicted_ns[m]));
  }
  t.add({"predicted", pred});
  t.add({"measured", duration(v.measured_ns) + " (" + duration(v.measured_ns / std::max(1u, v.items)) +
                         " per item; queue wait " + duration(static_cast<double>(v.start_ns - v.submit_ns)) +
                         ")"});
  if (!v.race_role.empty()) {
    t.add({"autotune", v.race_role + " in a race " + v.race_baseline + " vs " + v.race_speculative + ": " +
                           v.race_verdict});
  }
  t.add({"result", ok ? "ok: " + std::to_string(v.items_run) + " of " + std::to_string(v.items) +
                            " items ran; every value matches the CPU"
                      : "FAILED: " + problem});
  t.print(ctx.out, "  ");
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_run(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("run", "run one smoke batch of a built-in kernel and print its verdict");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("kernel", a->kernel, "built-in kernel: empty, saxpy, reduce_step, stencil_step, tally, spin")
      ->required();
  cmd->add_option("--items,-n", a->items, "work items in the batch")->check(CLI::Range(1u, 1'000'000u))->capture_default_str();
  cmd->add_option("--grid,-g", a->grid, "invocations per item")->check(CLI::Range(1u, 65'536u))->capture_default_str();
  cmd->add_option("--mode,-m", a->mode, "launch mode: auto (the policy decides) or force one")
      ->check(CLI::IsMember({"auto", "launches", "recorded", "persistent"}))
      ->capture_default_str();
  cmd->add_option("--device,-d", a->device, "device index or name substring (default: SPOOL_DEVICE, else the best)");
  cmd->add_option("--telemetry", a->telemetry, "append the verdict event to this JSON Lines file")->type_name("FILE");
  cmd->add_flag("--json", a->json, "print the verdict event and the check as JSON");
  cmd->footer("Exit status: 0 the batch ran and its results match the CPU, 1 otherwise, 2 wrong arguments.\n"
              "Calibration and autotuning follow SPOOL_CALIBRATE / SPOOL_AUTOTUNE with the store --db.");
  cmd->callback([&ctx, a] { ctx.rc = run_run(ctx, *a); });
}

}  // namespace spool::cli
