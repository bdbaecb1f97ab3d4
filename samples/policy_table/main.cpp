// Prints the launch-mode verdict for a range of batch sizes on a launch
// profile given on the command line (ns), or on the default profile: the
// figures DESIGN.md reports for lavapipe on a 2-core machine.
//
//   spool_policy_table [L R r P p [k]]   (--help: usage)
#include <spool/policy/launch_mode.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

std::string us(spool::policy::u128 ns) {
  char buf[48];
  spool::policy::format_u128(ns / 1000, buf);
  std::string s(buf);
  const auto frac = static_cast<unsigned>((ns % 1000) / 100);
  return s + "." + std::to_string(frac);
}

}  // namespace

int main(int argc, char** argv) {
  // L, R, r, P, p, k
  std::uint64_t v[6] = {60'000, 30'000, 15'000, 400'000, 1'000, 0};
  const char* source = "default (DESIGN.md lavapipe figures)";
  std::vector<std::uint64_t> given;
  CLI::App app{"Prints the launch-mode verdict for a range of batch sizes on a launch profile\n"
               "(ns): the one given, or the figures DESIGN.md reports for lavapipe.",
               "spool_policy_table"};
  app.add_option("profile", given,
                 "L R r P p [k]: launch, record setup, replay, persistent setup, queue item and kernel ns")
      ->expected(5, 6)
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!given.empty()) {
    for (std::size_t i = 0; i < given.size(); ++i) v[i] = given[i];
    source = "command line";
  }

  std::printf("launch profile (%s): L=%llu R=%llu r=%llu P=%llu p=%llu k=%llu ns\n", source,
              (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
              (unsigned long long)v[3], (unsigned long long)v[4], (unsigned long long)v[5]);
  std::printf("%10s  %-10s  %14s  %14s  %14s  %14s\n", "batch", "verdict", "launches us",
              "recorded us", "persistent us", "savings us");
  for (std::uint32_t n : {0u, 1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u, 1024u, 10'000u, 100'000u}) {
    spool::policy::LaunchModeInputs in{};
    in.batch_size = n;
    in.per_item_kernel_ns = v[5];
    in.launches = {true, 0, v[0]};
    in.recorded = {true, v[1], v[2]};
    in.persistent = {true, v[3], v[4]};
    const auto d = spool::policy::choose_launch_mode(in);
    std::printf("%10u  %-10s  %14s  %14s  %14s  %14s\n", n,
                std::string(spool::policy::to_string(d.mode)).c_str(), us(d.predicted_ns[0]).c_str(),
                us(d.predicted_ns[1]).c_str(), us(d.predicted_ns[2]).c_str(),
                us(d.savings_ns).c_str());
  }
  return 0;
}
