#include "smoke.hpp"

#include <cmath>
#include <cstring>
#include <functional>

namespace spool::cli {

namespace {

Buffer floats(Device& dev, std::uint64_t n, float (*init)(std::uint64_t)) {
  Buffer b = dev.buffer(n * sizeof(float));
  auto v = b.as<float>();
  for (std::uint64_t i = 0; i < n; ++i) v[i] = init ? init(i) : 0.0f;
  return b;
}

Buffer uints(Device& dev, std::uint64_t n) {
  Buffer b = dev.buffer(n * sizeof(std::uint32_t));
  std::memset(b.data(), 0, n * sizeof(std::uint32_t));
  return b;
}

std::string mismatch(const char* what, std::uint64_t at, double got, double want) {
  return std::string(what) + "[" + std::to_string(at) + "] = " + std::to_string(got) + ", expected " +
         std::to_string(want);
}

float pattern(std::uint64_t i) { return static_cast<float>(i % 7) - 3.0f; }

// The check of a kernel whose item k writes slice k (g floats) of `out`:
// element j of every slice must be want(j), within tol (NaN never passes).
std::function<std::string()> slices_match(const Buffer& out, const char* name, std::uint64_t n,
                                          std::uint64_t g, std::function<float(std::uint64_t)> want,
                                          float tol) {
  return [out, name, n, g, want = std::move(want), tol] {
    const auto v = out.as<float>();
    for (std::uint64_t i = 0; i < n * g; ++i) {
      const float w = want(i % g);
      if (!(std::fabs(v[i] - w) <= tol)) return mismatch(name, i, v[i], w);
    }
    return std::string();
  };
}

}  // namespace

std::vector<std::string> smoke_kernels() {
  return {"empty", "saxpy", "reduce_step", "stencil_step", "tally", "spin"};
}

SmokeBatch smoke_batch(Device& dev, const std::string& kernel, std::uint32_t items, std::uint32_t grid) {
  const std::uint64_t n = items, g = grid;
  SmokeBatch s{Batch(dev.kernel(kernel)), {}, {}, {}};
  s.batch.reserve(items);
  if (kernel == "empty") {
    for (std::uint32_t k = 0; k < items; ++k) s.batch.add(grid, {arg(0u)});
    s.what = "each item does nothing";
    s.check = [] { return std::string(); };
  } else if (kernel == "saxpy") {
    // Item k: y_k = 2 x + y_k on its own slice y_k (zero), so y_k = 2 x.
    s.buffers.push_back(floats(dev, g, pattern));
    s.buffers.push_back(floats(dev, n * g, nullptr));
    const Buffer& x = s.buffers[0];
    const Buffer& y = s.buffers[1];
    for (std::uint32_t k = 0; k < items; ++k) {
      s.batch.add(grid, {arg(x), arg(y, k * g * 4), arg(2.0f), arg(grid)});
    }
    s.what = "item k: y_k = 2 x + y_k on its own slice of y";
    s.check = slices_match(y, "y", n, g, [](std::uint64_t j) { return 2.0f * pattern(j); }, 0.0f);
  } else if (kernel == "reduce_step") {
    // Item k: out_k[i] = in[2i] + in[2i+1] over n = 2 grid values.
    s.buffers.push_back(floats(dev, 2 * g, pattern));
    s.buffers.push_back(floats(dev, n * g, nullptr));
    const Buffer& in = s.buffers[0];
    const Buffer& out = s.buffers[1];
    for (std::uint32_t k = 0; k < items; ++k) {
      s.batch.add(grid, {arg(in), arg(out, k * g * 4), arg(2 * grid)});
    }
    s.what = "item k: out_k[i] = in[2i] + in[2i+1]";
    s.check = slices_match(
        out, "out", n, g, [](std::uint64_t j) { return pattern(2 * j) + pattern(2 * j + 1); }, 0.0f);
  } else if (kernel == "stencil_step") {
    // Item k: one Jacobi step (alpha 0.25) from the shared src into dst_k.
    s.buffers.push_back(floats(dev, g, pattern));
    s.buffers.push_back(floats(dev, n * g, nullptr));
    const Buffer& src = s.buffers[0];
    const Buffer& dst = s.buffers[1];
    for (std::uint32_t k = 0; k < items; ++k) {
      s.batch.add(grid, {arg(src), arg(dst, k * g * 4), arg(0.25f), arg(grid)});
    }
    s.what = "item k: dst_k = one heat-diffusion step of src";
    const auto step = [g](std::uint64_t j) {
      if (j == 0 || j + 1 >= g) return pattern(j);  // boundary cells keep their value
      return pattern(j) + 0.25f * (pattern(j - 1) - 2.0f * pattern(j) + pattern(j + 1));
    };
    s.check = slices_match(dst, "dst", n, g, step, 1e-5f);
  } else if (kernel == "tally") {
    // Item k bumps its own counters k*grid .. k*grid + grid - 1 once.
    s.buffers.push_back(uints(dev, n * g));
    const Buffer& counts = s.buffers[0];
    for (std::uint32_t k = 0; k < items; ++k) {
      s.batch.add(grid, {arg(counts), arg(static_cast<std::uint32_t>(k * g))});
    }
    s.what = "item k: counts[k*grid + i] += 1 (each counter exactly once)";
    s.check = [counts, n, g] {
      const auto v = counts.as<std::uint32_t>();
      for (std::uint64_t i = 0; i < n * g; ++i) {
        if (v[i] != 1) return mismatch("counts", i, v[i], 1);
      }
      return std::string();
    };
  } else if (kernel == "spin") {
    // The gate is open: each item marks started and finished once.
    s.buffers.push_back(uints(dev, 1));
    s.buffers.push_back(uints(dev, 3 * n));
    const Buffer& gate = s.buffers[0];
    const Buffer& marks = s.buffers[1];
    for (std::uint32_t k = 0; k < items; ++k) s.batch.add(grid, {arg(gate), arg(marks), arg(k), arg(1u)});
    s.what = "item k: marks started and finished once (gate open)";
    s.check = [marks, n] {
      const auto v = marks.as<std::uint32_t>();
      for (std::uint64_t k = 0; k < n; ++k) {
        if (v[3 * k] != 1) return mismatch("started", k, v[3 * k], 1);
        if (v[3 * k + 1] != 1) return mismatch("finished", k, v[3 * k + 1], 1);
      }
      return std::string();
    };
  } else {
    SPOOL_THROW(Errc::invalid_argument, "spool run has no smoke batch for kernel '" + kernel + "'");
  }
  return s;
}

}  // namespace spool::cli
