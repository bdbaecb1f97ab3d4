// A downstream application built against the installed Spool package.
#include <spool/policy/launch_mode.hpp>

#include <cstdio>
#include <string>

int main() {
  spool::policy::LaunchModeInputs in{};
  in.batch_size = 1000;
  in.launches = {true, 0, 30'000};
  in.recorded = {true, 20'000, 5'000};
  in.persistent = {true, 200'000, 700};
  const auto d = spool::policy::choose_launch_mode(in);
  std::printf("consumer: %s\n", std::string(spool::policy::to_string(d.mode)).c_str());
  return 0;
}
