#!/usr/bin/env bash
# Runs the allocator benchmarks side by side and prints one table.
# Usage: bench/alloc/run.sh [build-dir] [seconds-per-larson-run] [mixed-ops]
#   build dir defaults to build/default (cmake --preset default && cmake --build --preset default)
# Columns: allocations (Larson, prodcons) or operations (random-mixed) per second, and
# the ratio of each allocator to mimalloc on the same run. "spool-fixed" is
# the pool with the learner off (SPOOL_ALLOC_LEARNER=0: default refill counts).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/default}
secs=${2:-1.5}
ops=${3:-30000000}
dir=$build/bench/alloc
allocs=(spool spool-fixed mimalloc jemalloc tcmalloc glibc)

run() {  # allocator, args...
  local a=$1
  shift
  case $a in
    spool-fixed) SPOOL_ALLOC_LEARNER=0 "$dir/bench_alloc_spool" "$@" ;;
    *) "$dir/bench_alloc_$a" "$@" ;;
  esac
}

declare -A rate
learner_lines=()
benches=("larson 1 $secs" "larson 2 $secs" "mixed $ops" "prodcons $secs")
for bench in "${benches[@]}"; do
  for a in "${allocs[@]}"; do
    [ -x "$dir/bench_alloc_${a%-fixed}" ] || continue
    out=$(run "$a" $bench)
    r=$(echo "$out" | sed -n 's/.* rate=\([0-9]*\).*/\1/p' | head -1)
    rate["$bench|$a"]=$r
    if [ "$a" = spool ]; then learner_lines+=("$bench: $(echo "$out" | grep '^learner' || true)"); fi
  done
done

printf '\n%-22s' "benchmark"
for a in "${allocs[@]}"; do printf '%14s' "$a"; done
printf '\n'
for bench in "${benches[@]}"; do
  set -- $bench
  case $1 in larson) label="larson ${2}T" ;; mixed) label="mixed 1T" ;; *) label="prodcons 2T" ;; esac
  printf '%-22s' "$label (M/s)"
  for a in "${allocs[@]}"; do
    r=${rate["$bench|$a"]:-}
    if [ -n "$r" ]; then printf '%14.2f' "$(echo "$r / 1000000" | bc -l)"; else printf '%14s' "-"; fi
  done
  printf '\n%-22s' "  vs mimalloc"
  m=${rate["$bench|mimalloc"]:-}
  for a in "${allocs[@]}"; do
    r=${rate["$bench|$a"]:-}
    if [ -n "$r" ] && [ -n "$m" ]; then printf '%14.2f' "$(echo "$r / $m" | bc -l)"; else printf '%14s' "-"; fi
  done
  printf '\n'
done
printf '\nlearner (spool, learner on):\n'
for l in "${learner_lines[@]}"; do echo "  $l"; done
