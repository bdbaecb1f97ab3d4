#!/usr/bin/env bash
# Prepares, on this machine (no GPU needed), what scripts/gpu_check.sh runs on
# a lent GPU machine (docs/cuda.md, "Checking on a GPU"; /work/shared/GPU.md):
#
#   1. builds build/gpu: Release, both backends, SASS for sm_90 only
#      (H100/H200), the CUDA runtime linked statically, the cuda tests, the
#      device-facts program, the cuda_interop sample, bench_dispatch, the
#      Vulkan tests that run kernels (vulkan, differential, interop), the
#      heat_chain sample and the spool command;
#   2. fills .gpu/ (ignored by git through .git/info/exclude, carried by the
#      device tool): the binaries at their build-tree paths, the ctest files of
#      tests/cuda with this machine's paths replaced by placeholders (gpu_check
#      writes the paths of wherever it runs), the shared libraries the binaries
#      need that a CUDA image lacks (ldd: the Vulkan loader and SPIRV-Cross
#      too; libstdc++/libgcc_s apart, used only if the image's are older), the
#      data files the Vulkan tests read by build-tree path (SPIR-V), the
#      Debian packages of the Vulkan loader and GL dispatch (.gpu/deb), and
#      what was built;
#   3. runs scripts/gpu_check.sh --dry-run against .gpu/ (here the GPU tests
#      skip; the Vulkan steps run on lavapipe): every binary loads, ctest
#      finds the cuda label's tests, the result file is written;
#   4. packs .gpu/build into .gpu/build.tgz (gpu_check.sh unpacks it) and
#      checks the size against the device tool's 64 MiB carry limit.
#
# Usage: scripts/gpu_prepare.sh [--jobs N] [--no-build]
# Then, with a lent GPU: run `bash scripts/gpu_check.sh` with carry [".gpu"].
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build/gpu
GPU=$ROOT/.gpu
JOBS=2
DO_BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --jobs) JOBS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "gpu_prepare: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf 'gpu_prepare: %s\n' "$*"; }
die() { printf 'gpu_prepare: error: %s\n' "$*" >&2; exit 1; }

# The binaries gpu_check.sh runs, relative to the build tree.
BINARIES=(
  tests/cuda/cuda_device_facts
  tests/cuda/cuda_leader_test
  tests/cuda/cuda_deferred_free_test
  tests/cuda/cuda_grid_test
  tests/cuda/cuda_graph_plan_test
  tests/cuda/cuda_args_test
  tests/cuda/cuda_check_test
  tests/cuda/cuda_gpu_test
  tests/cuda/cuda_persistent_gpu_test
  tests/cuda/cuda_app_kernel_test
  tests/cuda/cuda_interop_gpu_test
  samples/cuda_interop/spool_cuda_interop
  bench/dispatch/bench_dispatch
  tests/runtime/vulkan_tests
  tests/runtime/vk_differential_tests
  tests/runtime/vk_interop_tests
  samples/heat_chain/spool_heat_chain
  tools/spool/spool
)
# Files the Vulkan tests open by their build-tree path (compiled in).
DATA_GLOBS=(
  'kernels/spool_kernels/spool_kernels_glsl/*.spv'
  tests/runtime/app_scale.spv
)
TARGETS=()
for b in "${BINARIES[@]}"; do TARGETS+=("$(basename "$b")"); done

# ---- 1. build ----
if [[ $DO_BUILD == 1 ]]; then
  command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]] || die "nvcc not found (CUDA toolkit at /usr/local/cuda?)"
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work}
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  fi
  log "configuring $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DSPOOL_ENABLE_CUDA=ON -DSPOOL_ENABLE_VULKAN=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90-real \
    -DSPOOL_BUILD_TESTS=ON -DSPOOL_BUILD_BENCH=ON -DSPOOL_BUILD_SAMPLES=ON -DSPOOL_WERROR=ON \
    "${launcher[@]}" >"$ROOT/build/gpu-configure.log" 2>&1 || { tail -30 "$ROOT/build/gpu-configure.log"; die "configure failed"; }
  log "building ${#TARGETS[@]} targets with -j$JOBS (log: build/gpu-build.log)"
  cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" >"$ROOT/build/gpu-build.log" 2>&1 ||
    { tail -40 "$ROOT/build/gpu-build.log"; die "build failed"; }
fi
for b in "${BINARIES[@]}"; do [[ -x $BUILD/$b ]] || die "missing $BUILD/$b (build first, without --no-build)"; done
[[ -f $BUILD/tests/cuda/CTestTestfile.cmake ]] || die "missing $BUILD/tests/cuda/CTestTestfile.cmake"

# ---- 2. .gpu/ ----
rm -rf "$GPU"
mkdir -p "$GPU/build" "$GPU/ctest" "$GPU/lib" "$GPU/lib-fallback"
exclude=$(git -C "$ROOT" rev-parse --git-common-dir)/info/exclude
[[ $exclude = /* ]] || exclude=$ROOT/$exclude
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >>"$exclude"
git -C "$ROOT" check-ignore -q .gpu/build || die ".gpu/ is not ignored by git (checked $exclude)"

for b in "${BINARIES[@]}"; do
  mkdir -p "$GPU/build/$(dirname "$b")"
  cp "$BUILD/$b" "$GPU/build/$b"
  strip --strip-debug "$GPU/build/$b" 2>/dev/null || true
done

(cd "$BUILD" && for g in "${DATA_GLOBS[@]}"; do
  for f in $g; do
    [[ -f $f ]] || die "missing $BUILD/$f"
    mkdir -p "$GPU/build/$(dirname "$f")"
    cp "$f" "$GPU/build/$f"
    echo "$f"
  done
done) >"$GPU/DATA"

# The Vulkan loader and the GL dispatch libraries the NVIDIA Vulkan driver
# loads, as Debian packages (the device tool's recipe): gpu_check.sh unpacks
# them into / on the GPU machine, whose image has none.
mkdir -p "$GPU/deb"
if ! (cd "$GPU/deb" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1); then
  log "warning: apt-get download of the Vulkan loader packages failed: the Vulkan steps rely on the image"
fi

# ctest files of tests/cuda, with this machine's paths as placeholders. The
# top-level file lists only tests/cuda: the other directories' tests are not
# carried.
template() {  # src dst
  sed -e "s#$BUILD#@SPOOL_BUILD@#g" -e "s#$ROOT#@SPOOL_SOURCE@#g" "$1" >"$2"
}
mkdir -p "$GPU/ctest/tests/cuda"
printf '# gpu_prepare.sh: only the cuda tests travel\nsubdirs("tests/cuda")\n' >"$GPU/ctest/CTestTestfile.cmake"
template "$BUILD/tests/cuda/CTestTestfile.cmake" "$GPU/ctest/tests/cuda/CTestTestfile.cmake"
shopt -s nullglob
for f in "$BUILD"/tests/cuda/*_include.cmake "$BUILD"/tests/cuda/*_tests.cmake; do
  template "$f" "$GPU/ctest/tests/cuda/$(basename "$f")"
done
shopt -u nullglob
grep -q "PersistentGpu\." "$GPU"/ctest/tests/cuda/*_tests.cmake || die "the discovered GPU tests are missing from the ctest files"

# Shared libraries the binaries need, except the C library and the compiler's
# runtime (the image has its own; ours go to lib-fallback, used only when the
# image's are older than what the binaries were linked against).
declare -A seen=()
for b in "${BINARIES[@]}"; do
  while read -r name _ path _; do
    [[ -n ${path:-} && -f $path ]] || continue
    [[ -n ${seen[$name]:-} ]] && continue
    seen[$name]=1
    case $name in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|linux-vdso*) ;;
      libstdc++.so*|libgcc_s.so*) cp -L "$path" "$GPU/lib-fallback/$name" ;;
      libcuda.so*|libnvidia*) die "$b links the driver library $name directly: link the CUDA runtime statically" ;;
      *) cp -L "$path" "$GPU/lib/$name" ;;
    esac
  done < <(ldd "$BUILD/$b" | awk '$2 == "=>" {print $1, $2, $3, $4}')
done

commit=$(git -C "$ROOT" rev-parse HEAD)
dirty=$(git -C "$ROOT" status --porcelain | grep -c . || true)
{
  echo "source_root=$ROOT"
  echo "build_root=$BUILD"
  echo "commit=$commit"
  echo "uncommitted_changes=$dirty"
  echo "prepared=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host=$(uname -srm); $(ldd --version | head -1); $(c++ --version | head -1)"
  echo "nvcc=$( (command -v nvcc >/dev/null && nvcc --version || /usr/local/cuda/bin/nvcc --version) | tail -1)"
  echo "cuda_architectures=90-real"
} >"$GPU/BUILD_INFO"
printf '%s\n' "${BINARIES[@]}" >"$GPU/BINARIES"

# ---- 3. dry run ----
log "dry run of scripts/gpu_check.sh against .gpu/"
OUT_DIR=$(mktemp -d)
if OUT=$OUT_DIR bash "$ROOT/scripts/gpu_check.sh" --dry-run; then
  log "dry run passed: $OUT_DIR/GPU_RESULTS.md"
else
  die "dry run failed (log: $OUT_DIR/gpu_check.log)"
fi

# ---- 4. pack and size ----
# The binaries (static CUDA runtime, both backends) are ~5 MiB each: they
# travel as one gzip'd tar that gpu_check.sh unpacks.
tar -C "$GPU" -czf "$GPU/build.tgz" build
rm -rf "$GPU/build"
bytes=$(du -sb "$GPU" | cut -f1)
tracked=$(git -C "$ROOT" ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
log ".gpu/ holds $((bytes / 1024)) KiB; the tracked tree $((tracked / 1024)) KiB (carry limit: 65536 KiB together)"
(( bytes + tracked < 60 * 1024 * 1024 )) || die ".gpu/ plus the tree exceed 60 MiB: too large to carry"
ls -la "$GPU/lib" "$GPU/lib-fallback" | sed 's/^/  /'

log "ready: on a lent GPU run 'bash scripts/gpu_check.sh' with carry [\".gpu\"] (see docs/cuda.md)"
