#!/usr/bin/env bash
# Spool's checks on a lent GPU machine (the CUDA backend, and the Vulkan
# backend on the GPU's own driver), in one run of under eight minutes (docs/cuda.md, "Checking on a GPU"). Prepare .gpu/ first, on a
# machine without a GPU: scripts/gpu_prepare.sh. Then, through the device
# tool: command `bash scripts/gpu_check.sh`, carry [".gpu"], timeout_s 540.
#
# Steps, each with its own time limit inside an overall budget
# (SPOOL_GPU_CHECK_BUDGET_S, default 480 s):
#   setup     ctest files for this checkout's paths; do the binaries load?
#   machine   nvidia-smi: GPU, driver, clocks, PCIe link
#   facts     cuda_device_facts: SMs, occupancy of the persistent kernels,
#             cudaDevAttrHostNativeAtomicSupported, concurrent managed access
#   ctest     the `cuda` label (less the two build-time checks that need this
#             machine's toolchain paths: compile errors, fat binary contents)
#   groups=1, groups=65535
#             exactly-once, differential and order tests again with one
#             persistent block and with far more blocks than can be resident
#   memcheck, racecheck
#             compute-sanitizer on the GPU tests (small selections)
#   devices   spool devices: both backends' view of the machine
#   vulkan-*  a one-test probe, then the Vulkan tests that run kernels
#             (vulkan_tests, differential, interop) on the GPU's Vulkan
#             driver (SPOOL_DEVICE=vulkan); skipped when the probe fails
#   heat-*    the main job (samples/heat_chain) on the default device, on
#             CUDA and on Vulkan: verdicts, results checked, auto vs forced
#   dispatch  bench_dispatch on the CUDA device (and tally with one
#             persistent block), then on the Vulkan device
# Writes $OUT/GPU_RESULTS.md (what was measured, for docs/GPU_RESULTS.md),
# $OUT/gpu_check.log (everything), dispatch.csv and dispatch-vulkan.csv, and
# the heat_chain telemetry (heat-*.jsonl); $OUT defaults to .gpu/out. Exit status 0 when every step that ran passed.
#
# --dry-run: on a machine without a GPU, checks what can be checked (paths,
# libraries, ctest discovery, the host-side tests; GPU tests skip) and marks
# the GPU-only steps skipped.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GPU=$ROOT/.gpu
BUILD=$GPU/build
DRY=0
[[ ${1:-} == --dry-run ]] && DRY=1
OUTDIR=${OUT:-$GPU/out}
mkdir -p "$OUTDIR"
LOG=$OUTDIR/gpu_check.log
RES=$OUTDIR/GPU_RESULTS.md
TMP=$(mktemp -d)
BUDGET=${SPOOL_GPU_CHECK_BUDGET_S:-480}
START=$(date +%s)
: >"$LOG"

say() { printf '%s\n' "$*" | tee -a "$LOG"; }
elapsed() { echo $(($(date +%s) - START)); }

# Step bookkeeping: names, status (passed/FAILED/skipped: why), seconds.
STEPS=()
declare -A STATUS=() SECONDS_OF=()
record() { STEPS+=("$1"); STATUS[$1]=$2; SECONDS_OF[$1]=${3:-0}; say "== $1: $2 (${3:-0} s)"; }

# run_step NAME MAX_S OUTFILE CMD...: runs CMD with a limit that keeps the
# whole run inside the budget; output to OUTFILE and the log. Returns CMD's
# status (124 on timeout, 125 when no time was left).
run_step() {
  local name=$1 max=$2 out=$3
  shift 3
  local left=$((BUDGET - $(elapsed) - 15))
  if ((left < 10)); then
    echo "no time left in the ${BUDGET} s budget" >"$out"
    return 125
  fi
  local limit=$((max < left ? max : left))
  say "-- $name: $* (limit ${limit} s)"
  local t0
  t0=$(date +%s)
  # Line-buffered, so that a step killed at its limit still shows how far it
  # got (which test hung); not under compute-sanitizer (NOBUF=1).
  local buf=()
  [[ ${NOBUF:-0} == 0 ]] && command -v stdbuf >/dev/null && buf=(stdbuf -oL -eL)
  timeout -k 10 "$limit" "${buf[@]}" "$@" >"$out" 2>&1
  local rc=$?
  cat "$out" >>"$LOG"
  LAST_SECONDS=$(($(date +%s) - t0))
  return $rc
}

# ---- setup ----
[[ -f $GPU/BUILD_INFO && -f $GPU/BINARIES ]] || { say "gpu_check: .gpu/ is not prepared: run scripts/gpu_prepare.sh first"; exit 2; }
if [[ ! -d $BUILD && -f $GPU/build.tgz ]]; then
  tar -C "$GPU" -xzf "$GPU/build.tgz" || { say "gpu_check: cannot unpack $GPU/build.tgz"; exit 2; }
fi
missing=0
while read -r b; do
  [[ -f $BUILD/$b ]] && chmod +x "$BUILD/$b"  # in case the copy lost the mode
  [[ -x $BUILD/$b ]] || { say "gpu_check: missing $BUILD/$b"; missing=1; }
done <"$GPU/BINARIES"
((missing == 0)) || exit 2
# ctest files with the paths of this checkout (the templates stay as they are).
(cd "$GPU/ctest" && find . -name '*.cmake' -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$BUILD/$(dirname "$f")"
  sed -e "s#@SPOOL_BUILD@#$BUILD#g" -e "s#@SPOOL_SOURCE@#$ROOT#g" "$GPU/ctest/$f" >"$BUILD/$f"
done
# The Vulkan tests open SPIR-V files by the build-tree path they were built
# with: point that path at the carried build tree.
build_root=$(sed -n 's/^build_root=//p' "$GPU/BUILD_INFO")
if [[ -n $build_root && $build_root != "$BUILD" && ! -e $build_root ]]; then
  mkdir -p "$(dirname "$build_root")" && ln -s "$BUILD" "$build_root" && say "gpu_check: $build_root -> $BUILD"
fi
export XDG_CACHE_HOME=$TMP/cache  # autotune store and profiles: nothing outside this run
export LD_LIBRARY_PATH=$GPU/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if ! "$BUILD/tests/cuda/cuda_grid_test" --gtest_brief=1 >"$TMP/probe.txt" 2>&1; then
  # The image's C++ runtime is older than the one the binaries were linked with.
  export LD_LIBRARY_PATH=$GPU/lib:$GPU/lib-fallback${LD_LIBRARY_PATH#$GPU/lib}
  if ! "$BUILD/tests/cuda/cuda_grid_test" --gtest_brief=1 >"$TMP/probe.txt" 2>&1; then
    cat "$TMP/probe.txt" | tee -a "$LOG"
    say "gpu_check: the binaries built by gpu_prepare.sh do not run here; build on this machine instead (docs/cuda.md)"
    record setup "FAILED: binaries do not load" 0
    exit 1
  fi
  say "gpu_check: using the carried libstdc++ (.gpu/lib-fallback)"
fi
record setup passed 0
SANITIZER=$(command -v compute-sanitizer || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [[ -z $SANITIZER && -x $c ]] && SANITIZER=$c
done
HAVE_GPU=1
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then HAVE_GPU=0; fi
# The Vulkan loader and GL dispatch (the image has none): unpacked into /
# on the GPU machine only (the device tool's recipe), never in a dry run.
if ((HAVE_GPU && !DRY)) && compgen -G "$GPU/deb/*.deb" >/dev/null; then
  for f in "$GPU"/deb/*.deb; do dpkg -x "$f" / || say "gpu_check: dpkg -x $f failed"; done
  ldconfig || true
fi

# ---- machine ----
if ((HAVE_GPU)); then
  run_step machine 30 "$TMP/machine.txt" nvidia-smi \
    --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,pcie.link.gen.current,pcie.link.width.current \
    --format=csv
  rc=$?
  record machine "$([[ $rc == 0 ]] && echo passed || echo "FAILED: status $rc")" "$LAST_SECONDS"
else
  echo "no nvidia-smi or no GPU" >"$TMP/machine.txt"
  record machine "skipped: no GPU (nvidia-smi)" 0
fi

# ---- facts ----
run_step facts 30 "$TMP/facts.txt" "$BUILD/tests/cuda/cuda_device_facts" --markdown
rc=$?
if [[ $rc == 0 ]]; then
  record facts passed "$LAST_SECONDS"
elif [[ $rc == 2 ]]; then
  HAVE_GPU=0
  record facts "skipped: $(head -1 "$TMP/facts.txt")" "$LAST_SECONDS"
else
  record facts "FAILED: status $rc" "$LAST_SECONDS"
fi

# ---- devices ----
# Without a Vulkan device from the loader's default manifests, the NVIDIA
# driver's own manifest (where the image keeps it), with the loader's
# messages in the log.
run_step devices 20 "$TMP/devices.txt" "$BUILD/tools/spool/spool" devices
rc=$?
HAVE_VULKAN=0
grep -qE '^ *[0-9]+ .* vulkan ' "$TMP/devices.txt" && HAVE_VULKAN=1
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ((HAVE_GPU && !HAVE_VULKAN)) && [[ -f $icd && -z ${VK_DRIVER_FILES:-} ]]; then
  export VK_DRIVER_FILES=$icd
  say "gpu_check: no Vulkan device; again with VK_DRIVER_FILES=$icd"
  run_step devices 20 "$TMP/devices.txt" env VK_LOADER_DEBUG=error,warn "$BUILD/tools/spool/spool" devices
  rc=$?
  grep -qE '^ *[0-9]+ .* vulkan ' "$TMP/devices.txt" && HAVE_VULKAN=1
  ((HAVE_VULKAN)) || unset VK_DRIVER_FILES
fi
record devices "$([[ $rc == 0 ]] && echo passed || echo "FAILED: status $rc")" "${LAST_SECONDS:-0}"

# ---- ctest -L cuda ----
# Without ctest (a CMake without it), the same binaries run whole.
run_binaries() {
  local rc=0 b
  for b in "$BUILD"/tests/cuda/cuda_*_test; do
    echo "---- $b"
    "$b" --gtest_brief=1 || rc=1
  done
  "$BUILD/samples/cuda_interop/spool_cuda_interop" --n 4096 --rounds 1 || rc=1
  return $rc
}
if command -v ctest >/dev/null 2>&1; then
  run_step ctest 210 "$TMP/ctest.txt" ctest --test-dir "$BUILD" -L cuda \
    -E 'cuda_app_kernel_compile_errors|cuda_fatbin_kernels' --output-on-failure --timeout 120 -j 1
  rc=$?
else
  say "gpu_check: no ctest here: running the cuda test binaries whole"
  run_step ctest 210 "$TMP/ctest.txt" bash -c "$(declare -f run_binaries); BUILD='$BUILD' run_binaries"
  rc=$?
  echo "ran the binaries whole (no ctest): status $rc" >>"$TMP/ctest.txt"
  printf ' 1/1 Test  #1: all binaries %s\n' "$([[ $rc == 0 ]] && echo Passed || echo Failed)" >>"$TMP/ctest.txt"
fi
summary=$(grep -E 'tests passed|tests failed' "$TMP/ctest.txt" | tail -1)
ran=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#' "$TMP/ctest.txt" || true)
skipped=$(grep -cE 'Test +#[0-9]+: .*Skipped' "$TMP/ctest.txt" || true)
if [[ $rc == 0 && $ran -gt 0 ]]; then
  record ctest "passed: ${summary:-?}; $skipped skipped" "$LAST_SECONDS"
else
  record ctest "FAILED: status $rc; ${summary:-no summary}" "$LAST_SECONDS"
fi

# ---- the persistent tests with one block and with far more than fit ----
FILTER='PersistentGpu.EveryIndexRunsOnceInEveryModeWithTheGridOfThisRun:PersistentGpu.RandomBatchesMatchTheCpuInEveryMode:PersistentGpu.SequentialChainRunsInOrderInEveryMode'
for groups in 1 65535; do
  run_step "groups=$groups" 75 "$TMP/groups$groups.txt" env SPOOL_PERSISTENT_GROUPS=$groups \
    "$BUILD/tests/cuda/cuda_persistent_gpu_test" --gtest_filter="$FILTER"
  rc=$?
  line=$(grep -E '^\[  (PASSED|FAILED)|tests? from .* ran|SKIPPED' "$TMP/groups$groups.txt" | tail -2 | tr '\n' ' ')
  if [[ $rc == 0 ]] && grep -q 'SKIPPED' "$TMP/groups$groups.txt"; then
    record "groups=$groups" "skipped: no CUDA device" "$LAST_SECONDS"
  elif [[ $rc == 0 ]]; then
    record "groups=$groups" "passed: $line" "$LAST_SECONDS"
  else
    record "groups=$groups" "FAILED: status $rc $line" "$LAST_SECONDS"
  fi
done

# ---- Vulkan tests on the GPU's Vulkan driver ----
gtest_step() {  # name limit outfile binary [args...]: a gtest binary whole
  local name=$1 limit=$2 out=$3
  shift 3
  run_step "$name" "$limit" "$out" "$@"
  local rc=$?
  local line
  line=$(grep -E '^\[  PASSED  \]|^\[  FAILED  \]|^\[  SKIPPED \]' "$out" | tr '\n' ' ')
  if [[ $rc == 0 ]]; then
    record "$name" "passed: $line" "$LAST_SECONDS"
  else
    record "$name" "FAILED: status $rc $line" "$LAST_SECONDS"
  fi
}
# A probe first: on an H200 (2026-11-29) every Vulkan step ran into its
# limit, so one short test decides whether the rest can run at all.
if ((HAVE_VULKAN)); then
  gtest_step vulkan-probe 25 "$TMP/vulkan-probe.txt" env SPOOL_DEVICE=vulkan "$BUILD/tests/runtime/vulkan_tests" \
    --gtest_filter='VulkanErrors.PersistentOnModuleWithoutVariantIsClearError'
  if [[ ${STATUS[vulkan-probe]} == FAILED* ]]; then
    say "gpu_check: the Vulkan probe failed or hung: the other Vulkan steps are skipped"
    tail -20 "$TMP/vulkan-probe.txt" >>"$TMP/vulkan-tests.txt"
    HAVE_VULKAN=0
    VULKAN_WHY="the probe (one test) failed or hung"
  fi
fi
if ((HAVE_VULKAN)); then
  # Not brief: each test's RUN line shows which one a timeout cut off.
  gtest_step vulkan-tests 100 "$TMP/vulkan-tests.txt" env SPOOL_DEVICE=vulkan "$BUILD/tests/runtime/vulkan_tests"
  gtest_step vulkan-differential 90 "$TMP/vulkan-differential.txt" env SPOOL_DEVICE=vulkan "$BUILD/tests/runtime/vk_differential_tests"
  gtest_step vulkan-interop 45 "$TMP/vulkan-interop.txt" env SPOOL_DEVICE=vulkan "$BUILD/tests/runtime/vk_interop_tests"
else
  for s in vulkan-tests vulkan-differential vulkan-interop; do
    echo "${VULKAN_WHY:-no Vulkan device (spool devices)}" >>"$TMP/$s.txt"
    record "$s" "skipped: ${VULKAN_WHY:-no Vulkan device}" 0
  done
fi

# ---- the main job: heat_chain on the default device, CUDA and Vulkan ----
heat() {  # name selector
  local name=$1 sel=$2
  run_step "$name" 60 "$TMP/$name.txt" env ${sel:+SPOOL_DEVICE=$sel} "$BUILD/samples/heat_chain/spool_heat_chain" \
    --rounds 2 --compare-reps 3 --telemetry "$OUTDIR/$name.jsonl"
  local rc=$?
  record "$name" "$([[ $rc == 0 ]] && echo passed || echo "FAILED: status $rc")" "$LAST_SECONDS"
}
if ((HAVE_GPU)); then
  heat heat-default ""
  heat heat-cuda cuda
else
  record heat-cuda "skipped: no GPU" 0
fi
if ((HAVE_VULKAN)); then heat heat-vulkan vulkan; else record heat-vulkan "skipped: ${VULKAN_WHY:-no Vulkan device}" 0; fi

# ---- compute-sanitizer ----
sanitize() {  # name tool limit binary filter [env...]
  local name=$1 tool=$2 limit=$3 bin=$4 filter=$5
  shift 5
  if ((!HAVE_GPU)); then record "$name" "skipped: no GPU" 0; return; fi
  if [[ -z $SANITIZER ]]; then record "$name" "skipped: compute-sanitizer not found" 0; return; fi
  # Instrumented kernels are slow: a long watchdog, so that no item counts as stalled.
  NOBUF=1 run_step "$name" "$limit" "$TMP/$name.txt" env SPOOL_WATCHDOG_MS=60000 SPOOL_GRACE_MS=60000 "$@" \
    "$SANITIZER" --tool "$tool" --error-exitcode 99 \
    "$BUILD/tests/cuda/$bin" --gtest_filter="$filter"
  local rc=$?
  local errs
  errs=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$TMP/$name.txt" | tail -1)
  if [[ $rc == 0 ]]; then
    record "$name" "passed: ${errs:-no summary}" "$LAST_SECONDS"
  else
    record "$name" "FAILED: status $rc; ${errs:-no summary}" "$LAST_SECONDS"
  fi
}
sanitize memcheck-gpu memcheck 70 cuda_gpu_test 'Gpu.SaxpyStencilReduceMatchCpuInEveryMode:Gpu.ParkAndRestart'
sanitize memcheck-persistent memcheck 70 cuda_persistent_gpu_test \
  'PersistentGpu.SequentialChainRunsInOrderInEveryMode:PersistentGpu.RandomBatchesMatchTheCpuInEveryMode' \
  SPOOL_TEST_SEED=1007
sanitize racecheck racecheck 60 cuda_persistent_gpu_test \
  'PersistentGpu.RandomBatchesMatchTheCpuInEveryMode' SPOOL_TEST_SEED=1019 SPOOL_PERSISTENT_GROUPS=4

# ---- bench/dispatch ----
if ((HAVE_GPU)); then
  run_step dispatch 100 "$TMP/dispatch.txt" env SPOOL_DEVICE=cuda "$BUILD/bench/dispatch/bench_dispatch" --max 10000 --reps 3 \
    --mixed-batches 100 --csv "$OUTDIR/dispatch.csv"
  rc=$?
  record dispatch "$([[ $rc == 0 ]] && echo passed || echo "FAILED: status $rc")" "$LAST_SECONDS"
else
  echo "no GPU" >"$TMP/dispatch.txt"
  record dispatch "skipped: no GPU" 0
fi
# The persistent mode's cost per item against the grid: one block (no
# contention for claims) beside the default grid measured above.
if ((HAVE_GPU)); then
  run_step dispatch-groups1 40 "$TMP/dispatch-groups1.txt" env SPOOL_DEVICE=cuda SPOOL_PERSISTENT_GROUPS=1 \
    "$BUILD/bench/dispatch/bench_dispatch" --kernels tally --max 1000 --reps 3 --mixed-batches 0 --enqueue-items 0
  rc=$?
  record dispatch-groups1 "$([[ $rc == 0 ]] && echo passed || echo "FAILED: status $rc")" "$LAST_SECONDS"
fi
if ((HAVE_VULKAN && HAVE_GPU)); then  # not on lavapipe: minutes there
  run_step dispatch-vulkan 90 "$TMP/dispatch-vulkan.txt" env SPOOL_DEVICE=vulkan "$BUILD/bench/dispatch/bench_dispatch" --max 10000 --reps 3 \
    --mixed-batches 100 --csv "$OUTDIR/dispatch-vulkan.csv"
  rc=$?
  record dispatch-vulkan "$([[ $rc == 0 ]] && echo passed || echo "FAILED: status $rc")" "$LAST_SECONDS"
else
  echo "no GPU Vulkan device" >"$TMP/dispatch-vulkan.txt"
  record dispatch-vulkan "skipped: no GPU Vulkan device" 0
fi

# ---- results ----
# A result section: a heading, then CMD's output on FILE in a code block.
section() {  # title file cmd...
  local title=$1 file=$2
  shift 2
  [[ -f $file ]] || return 0
  printf '\n## %s\n\n```\n' "$title"
  "$@" <"$file"
  echo '```'
}
# A gtest step's summary lines; its last lines too when it failed ($1: status).
gtest_lines() {
  local out
  out=$(cat)
  grep -E '^\[ +(FAILED|SKIPPED|PASSED) +\]|Failure|tests? from .* ran' -m 30 <<<"$out"
  [[ $1 == FAILED* ]] && { echo "-- last lines:"; tail -8 <<<"$out"; }
  return 0
}

failed=0
for s in "${STEPS[@]}"; do [[ ${STATUS[$s]} == FAILED* ]] && failed=1; done
{
  echo "# CUDA backend on a GPU: scripts/gpu_check.sh"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) ($(uname -sr)), $(elapsed) s of a ${BUDGET} s budget$([[ $DRY == 1 ]] && echo ', dry run')."
  echo "Built by scripts/gpu_prepare.sh:"
  echo
  echo '```'
  cat "$GPU/BUILD_INFO"
  echo '```'
  echo
  echo "| step | result | seconds |"
  echo "| --- | --- | --- |"
  for s in "${STEPS[@]}"; do echo "| $s | ${STATUS[$s]//|/\\|} | ${SECONDS_OF[$s]} |"; done
  echo
  echo "## Machine"
  echo
  echo '```'
  cat "$TMP/machine.txt"
  echo '```'
  echo
  echo "## Device facts (cuda_device_facts)"
  echo
  cat "$TMP/facts.txt"
  echo
  echo "## spool devices"
  echo
  echo '```'
  cat "$TMP/devices.txt"
  echo '```'
  echo
  echo "## ctest -L cuda"
  echo
  echo '```'
  grep -E 'tests passed|tests failed|\*\*\*Failed|\(Failed\)|\(Timeout\)|Not Run' "$TMP/ctest.txt" | head -40
  echo '```'
  for g in 1 65535; do
    echo
    echo "## SPOOL_PERSISTENT_GROUPS=$g"
    echo
    echo '```'
    grep -E '^\[ +(OK|FAILED|SKIPPED|PASSED) +\]|Failure|replay:' "$TMP/groups$g.txt" | head -30
    echo '```'
  done
  for s in vulkan-probe vulkan-tests vulkan-differential vulkan-interop; do
    section "$s" "$TMP/$s.txt" gtest_lines "${STATUS[$s]:-}"
  done
  for s in heat-default heat-cuda heat-vulkan; do
    section "$s (spool_heat_chain --rounds 2 --compare-reps 3)" "$TMP/$s.txt" tail -40
  done
  for s in memcheck-gpu memcheck-persistent racecheck; do
    section "$s" "$TMP/$s.txt" grep -E 'SUMMARY|^\[ +(OK|FAILED|PASSED) +\]|Invalid|Race|hazard' -m 30
  done
  echo
  echo "## bench_dispatch --max 10000 --reps 3 --mixed-batches 100 (CUDA)"
  echo
  echo '```'
  cat "$TMP/dispatch.txt"
  echo '```'
  echo
  if [[ -f $TMP/dispatch-groups1.txt ]]; then
    echo "## bench_dispatch --kernels tally --max 1000 with SPOOL_PERSISTENT_GROUPS=1 (CUDA)"
    echo
    echo '```'
    cat "$TMP/dispatch-groups1.txt"
    echo '```'
    echo
  fi
  echo "## bench_dispatch --max 10000 --reps 3 --mixed-batches 100 (Vulkan)"
  echo
  echo '```'
  cat "$TMP/dispatch-vulkan.txt"
  echo '```'
} >"$RES"
say "gpu_check: results in $RES, log in $LOG ($(elapsed) s)"
rm -rf "$TMP"
if ((failed)); then
  say "gpu_check: some steps FAILED"
  exit 1
fi
exit 0
