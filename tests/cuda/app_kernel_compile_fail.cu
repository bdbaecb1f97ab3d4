// Declarations SPOOL_CUDA_APP_KERNEL must reject at compile time, one per
// SPOOL_BAD_CASE (0: a correct declaration, the control). Compiled by
// check_compile_fail.cmake (ctest cuda_app_kernel_compile_errors), which
// expects case 0 to compile and every other case to fail with its message.
#include <spool/cuda/app_kernel.cuh>

struct Args {
  const float* x;
  float* y;
  float a;
  std::uint32_t n;
};
struct Other {
  const float* x;
  float* y;
  float a;
  std::uint32_t n;
};
struct WithDouble {
  float* p;
  double d;
};
struct WithCtor {
  WithCtor() : p(nullptr), n(0) {}
  float* p;
  std::uint32_t n;
};

__device__ void body(const Args& a, std::uint32_t i, std::uint32_t) {
  if (i < a.n) a.y[i] = a.a * a.x[i];
}
__device__ void body_double(const WithDouble& a, std::uint32_t i, std::uint32_t) { a.p[i] = static_cast<float>(a.d); }
__device__ void body_ctor(const WithCtor& a, std::uint32_t i, std::uint32_t) { a.p[i] = 0.0f; }

#if SPOOL_BAD_CASE == 0
SPOOL_CUDA_APP_KERNEL(k, Args, body, "k", SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Args, y), SPOOL_CUDA_ARG(Args, a),
                      SPOOL_CUDA_ARG(Args, n));
#elif SPOOL_BAD_CASE == 1  // a member left out
SPOOL_CUDA_APP_KERNEL(k, Args, body, "k", SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Args, y), SPOOL_CUDA_ARG(Args, a));
#elif SPOOL_BAD_CASE == 2  // out of order
SPOOL_CUDA_APP_KERNEL(k, Args, body, "k", SPOOL_CUDA_ARG(Args, y), SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Args, a),
                      SPOOL_CUDA_ARG(Args, n));
#elif SPOOL_BAD_CASE == 3  // a member twice
SPOOL_CUDA_APP_KERNEL(k, Args, body, "k", SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Args, a),
                      SPOOL_CUDA_ARG(Args, n));
#elif SPOOL_BAD_CASE == 4  // a member of another struct
SPOOL_CUDA_APP_KERNEL(k, Args, body, "k", SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Other, y), SPOOL_CUDA_ARG(Args, a),
                      SPOOL_CUDA_ARG(Args, n));
#elif SPOOL_BAD_CASE == 5  // a type Spool cannot pass
SPOOL_CUDA_APP_KERNEL(k, WithDouble, body_double, "k", SPOOL_CUDA_ARG(WithDouble, p), SPOOL_CUDA_ARG(WithDouble, d));
#elif SPOOL_BAD_CASE == 6  // not an aggregate
SPOOL_CUDA_APP_KERNEL(k, WithCtor, body_ctor, "k", SPOOL_CUDA_ARG(WithCtor, p), SPOOL_CUDA_ARG(WithCtor, n));
#elif SPOOL_BAD_CASE == 7  // an empty name
SPOOL_CUDA_APP_KERNEL(k, Args, body, "", SPOOL_CUDA_ARG(Args, x), SPOOL_CUDA_ARG(Args, y), SPOOL_CUDA_ARG(Args, a),
                      SPOOL_CUDA_ARG(Args, n));
#endif
