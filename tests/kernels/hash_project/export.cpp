// The generated kernel table, reachable through dlsym.
#include "probe.hpp"

extern "C" const spool::EmbeddedKernel* probe_kernels(std::size_t* n) {
  const auto all = probe::all();
  *n = all.size();
  return all.data();
}
