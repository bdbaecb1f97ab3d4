#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang 14, ASan + UBSan) and runs
# each one in turn, from its seed corpus (tests/fuzz/corpus/<name>/).
# Usage: scripts/fuzz.sh [--seconds N | --total N] [target ...]
#   --seconds N  run each target N seconds (default 600)
#   --total N    share N seconds among the targets (scripts/test.sh: 60)
# New inputs go to build/fuzz/corpus/<name>/, crashes to
# build/fuzz/artifacts/<name>/ (reproduce: build/fuzz/tests/fuzz/fuzz_<name> <file>).
# Exits non-zero when a target finds a crash, a leak or a timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
total=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --total) total="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
bash scripts/deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target spool_fuzzers
bin=build/fuzz/tests/fuzz
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < "$bin/fuzzers.txt"
fi
if [ -n "$total" ]; then
  seconds=$(( total / ${#targets[@]} ))
  [ "$seconds" -ge 1 ] || seconds=1
fi
status=0
for t in "${targets[@]}"; do
  [ -n "$t" ] || continue
  work=build/fuzz/corpus/$t
  art=build/fuzz/artifacts/$t
  mkdir -p "$work" "$art"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  echo "=== fuzz: $t for ${seconds} s ==="
  # -timeout: one input taking longer is a finding; -rss_limit_mb: so is a blow-up.
  if ! ASAN_OPTIONS=detect_leaks=1 "$bin/fuzz_$t" "$work" "tests/fuzz/corpus/$t" "${dict[@]}" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$art/" -print_final_stats=1; then
    echo "=== fuzz: $t FAILED (artifacts in $art) ==="
    status=1
  fi
done
exit $status
