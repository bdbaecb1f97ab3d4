// bench/validation: the cost of validation mode (SPOOL_VALIDATE=1). Two
// devices on the same GPU (or lavapipe), one with guards and one without,
// run the same batches interleaved within each repetition; the table shows
// the median wall time of one batch (submit to verdict) for each and the
// ratio (which device runs first alternates). The guard check reads max(64 KiB, size) + 4 KiB per distinct buffer
// of the batch, so the cost grows with the buffers a batch refers to, not
// with its items.
//
//   bench_validation [--reps R]
#include <spool/backend/guards.hpp>
#include <spool/spool.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::shared_ptr<spool::Device> open(bool validate) {
  spool::RuntimeOptions o;
  o.device_options.autotune = "off";
  o.device_options.calibrate = false;
  o.device_options.validate = validate;
  auto rt = spool::make_runtime(o);
  return rt.open_default();
}

struct Setup {
  std::vector<spool::Buffer> xs, ys;
  spool::Kernel k;
  Setup(spool::Device& d, std::uint32_t buffers, std::uint32_t grid) : k(d.kernel("saxpy")) {
    for (std::uint32_t i = 0; i < buffers; ++i) {
      xs.push_back(d.buffer(grid * 4));
      ys.push_back(d.buffer(grid * 4));
    }
  }
  spool::Batch batch(std::uint32_t items, std::uint32_t grid) const {
    spool::Batch b(k);
    for (std::uint32_t i = 0; i < items; ++i) {
      const std::size_t j = i % xs.size();
      b.add(grid, {spool::arg(xs[j]), spool::arg(ys[j]), spool::arg(1.0f), spool::arg(grid)});
    }
    return b;
  }
};

double time_batch(spool::Device& d, const Setup& s, std::uint32_t items, std::uint32_t grid, spool::LaunchMode m) {
  spool::SubmitOptions o;
  o.force_mode = m;
  spool::Batch b = s.batch(items, grid);
  const auto t0 = std::chrono::steady_clock::now();
  const spool::Verdict v = d.run(std::move(b), o);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (!v.ok()) {
    std::fprintf(stderr, "batch failed: %s\n", v.failure.c_str());
    std::exit(1);
  }
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 21;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--reps R]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1) {
    std::fprintf(stderr, "error: --reps must be at least 1\n");
    return 2;
  }
  try {
    auto off = open(false);
    auto on = open(true);
    std::printf("device: %s, median of %d, interleaved\n\n", off->info().name.c_str(), reps);
    std::printf("| items | buffers | grid | mode | off µs/batch | on µs/batch | on/off |\n");
    std::printf("| ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
    struct Case {
      std::uint32_t items, buffers, grid;
      spool::LaunchMode mode;
    };
    const Case cases[] = {
        {1, 1, 256, spool::LaunchMode::launches},    {100, 1, 256, spool::LaunchMode::recorded},
        {1000, 1, 256, spool::LaunchMode::recorded}, {100, 16, 256, spool::LaunchMode::recorded},
        {100, 100, 256, spool::LaunchMode::recorded}, {1000, 1, 256, spool::LaunchMode::persistent},
    };
    for (const Case& c : cases) {
      Setup s_off(*off, c.buffers, c.grid), s_on(*on, c.buffers, c.grid);
      std::vector<double> t_off, t_on;
      for (int r = 0; r < reps + 2; ++r) {  // two warm-up rounds (pipeline compilation)
        // Alternate which device goes first, so neither always runs second.
        double a = 0, b = 0;
        if (r % 2 == 0) {
          a = time_batch(*off, s_off, c.items, c.grid, c.mode);
          b = time_batch(*on, s_on, c.items, c.grid, c.mode);
        } else {
          b = time_batch(*on, s_on, c.items, c.grid, c.mode);
          a = time_batch(*off, s_off, c.items, c.grid, c.mode);
        }
        if (r >= 2) {
          t_off.push_back(a);
          t_on.push_back(b);
        }
      }
      const double mo = median(t_off), mn = median(t_on);
      std::printf("| %u | %u | %u | %s | %.1f | %.1f | %.2f |\n", c.items, 2 * c.buffers, c.grid,
                  std::string(spool::policy::to_string(c.mode)).c_str(), mo, mn, mn / mo);
    }
    // The check alone: one intact guarded buffer of 256 bytes (4 KiB + 64
    // KiB of guards), in host memory.
    const spool::backend::GuardLayout g = spool::backend::guard_layout(256);
    std::vector<std::byte> mem(g.front + 256 + g.back);
    spool::backend::fill_guard(mem.data(), g.front);
    spool::backend::fill_guard(mem.data() + g.front + 256, g.back);
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 100; ++i) {
        if (spool::backend::check_and_restore_guards(mem.data() + g.front, 256, g).any()) return 1;
      }
      t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 100);
    }
    std::printf("\nguard check of one 256-byte buffer (68 KiB of guards): %.2f µs\n", median(t));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
