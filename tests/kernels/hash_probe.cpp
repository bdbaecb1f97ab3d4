// Loads the kernel a test-built module embeds (spool_add_kernels() in a
// CMake project of its own, tests/kernels/hash_project) and runs it through
// Spool with racing on, as an application would. Driven by
// source_hash_rebuild.cmake, which edits the kernel and rebuilds between runs.
//
//   spool_hash_probe <module.so> <store> seed <variant>   store <variant> as the winner
//   spool_hash_probe <module.so> <store> run              run 3 batches, print each verdict
// Prints "hash=<source hash>"; `run` prints "batch <i> variant=<v> role=<r>
// ok=<0|1> x0=<first output>" for each batch.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "spool/autotune/store.hpp"
#include "spool/spool.hpp"

namespace {

constexpr std::uint32_t kItems = 8, kGrid = 64;
using Table = const spool::EmbeddedKernel* (*)(std::size_t*);

int fail(const std::string& why) {
  std::fprintf(stderr, "spool_hash_probe: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return fail("usage: spool_hash_probe <module.so> <store> seed <variant> | run");
  void* module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) return fail(std::string("dlopen: ") + dlerror());
  auto table = reinterpret_cast<Table>(dlsym(module, "probe_kernels"));
  if (table == nullptr) return fail("the module has no probe_kernels()");
  std::size_t n = 0;
  const spool::EmbeddedKernel* kernels = table(&n);
  if (n != 1) return fail("expected one kernel, got " + std::to_string(n));
  const spool::EmbeddedKernel& ek = kernels[0];
  std::printf("hash=%.*s\n", static_cast<int>(ek.source_hash.size()), ek.source_hash.data());

  spool::RuntimeOptions o;
  o.device_options.calibrate = false;
  o.device_options.autotune = "race";
  o.device_options.autotune_db = argv[2];
  auto rt = spool::make_runtime(o);
  if (rt.devices().empty()) return fail("no device");
  auto dev = rt.open_default();
  spool::Kernel k = dev->load(ek);
  const std::string mode = argv[3];
  if (mode == "seed") {
    if (argc != 5) return fail("seed needs a variant");
    const auto& i = dev->info();
    const spool::autotune::DeviceKey key{spool::to_string(i.backend), i.uuid, i.name, i.driver_version,
                                         i.api_version};
    auto store = spool::autotune::Store::open(argv[2]);
    store->set_winner(key, {k.name(), k.source_hash()}, spool::autotune::bucket_for(kItems, kGrid), argv[4]);
    std::printf("seeded %s\n", argv[4]);
    return 0;
  }
  if (mode != "run") return fail("unknown mode " + mode);
  spool::Buffer x = dev->buffer(kItems * kGrid * 4);
  for (int batch = 0; batch < 3; ++batch) {
    for (float& f : x.as<float>()) f = 1.0f;
    spool::Batch b(k);
    for (std::uint32_t i = 0; i < kItems; ++i) b.add(kGrid, {spool::arg(x, i * kGrid * 4), spool::arg(2.0f), spool::arg(kGrid)});
    spool::SubmitOptions so;
    so.force_mode = spool::LaunchMode::launches;
    const spool::Verdict v = dev->run(std::move(b), so);
    std::printf("batch %d variant=%s role=%s ok=%d x0=%g\n", batch, v.variant.c_str(), v.race_role.c_str(),
                v.ok() ? 1 : 0, static_cast<double>(x.as<float>()[0]));
  }
  return 0;
}
