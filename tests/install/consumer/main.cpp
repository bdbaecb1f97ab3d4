// A downstream application built against the installed Spool package.
#include <spool/alloc/alloc.hpp>
#include <spool/policy/launch_mode.hpp>

#include <cstdio>
#include <string>

int main() {
  // The installed package links the pool allocator (spool::alloc).
  void* block = spool::alloc::allocate(64);
  if (block == nullptr) return 1;
  spool::alloc::deallocate(block);
  spool::policy::LaunchModeInputs in{};
  in.batch_size = 1000;
  in.launches = {true, 0, 30'000};
  in.recorded = {true, 20'000, 5'000};
  in.persistent = {true, 200'000, 700};
  const auto d = spool::policy::choose_launch_mode(in);
  std::printf("consumer: %s\n", std::string(spool::policy::to_string(d.mode)).c_str());
  return 0;
}
