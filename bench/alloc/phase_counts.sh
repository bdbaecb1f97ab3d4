#!/usr/bin/env bash
# What could any refill-count chooser gain on the phased workload?
# Runs each phase of `alloc_workload phased` alone (--phases) under the shim
# with the learner off and every fixed count (SPOOL_ALLOC_REFILL), plus the
# default fixed count and the learner, interleaved over repetitions, and
# prints per phase the median CPU seconds (user + system of the process up to
# the end of the workload: cpu_s) and
# wall seconds of each configuration. The last table adds the phases up:
# the default fixed count, the learner, one count for the whole run (the best
# single count), and the best count of each phase (what a chooser that knew
# the phases in advance would get). "fixed" and "32" are the same setting for
# the phased sizes (16..256 B; the default count is 32 up to 1 KiB), so their
# difference shows the run's noise; picking the fastest of six noisy columns
# per phase flatters the per-phase best by about that much.
# Usage: bench/alloc/phase_counts.sh [build-dir] [reps] [scale]
set -euo pipefail
build=${1:-build/default}
reps=${2:-5}
scale=${3:-3}
wl=$build/bench/alloc/alloc_workload
shim=$build/alloc/libspool_malloc.so
for f in "$wl" "$shim"; do
  [ -e "$f" ] || { echo "phase_counts.sh: $f not found (build the alloc_suite target first)" >&2; exit 2; }
done
counts=(8 16 32 64 128 256)
configs=(fixed learner "${counts[@]}")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for phase in local handoff churn; do
    for c in "${configs[@]}"; do
      case $c in
        fixed) env=(SPOOL_ALLOC_LEARNER=0) ;;
        learner) env=(SPOOL_ALLOC_LEARNER=1) ;;
        *) env=(SPOOL_ALLOC_LEARNER=0 SPOOL_ALLOC_REFILL="$c") ;;
      esac
      line=$(env "${env[@]}" LD_PRELOAD="$shim" "$wl" phased --threads 2 --scale "$scale" \
        --phases "$phase" 2>&1)
      cpu=$(echo "$line" | sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p')
      wall=$(echo "$line" | sed -n 's/.*phase_s=[a-z]*:\([0-9.]*\).*/\1/p')
      [ -n "$cpu" ] && [ -n "$wall" ] || { echo "phase_counts.sh: run failed: $line" >&2; exit 1; }
      echo "$phase $c $cpu $wall" >>"$out"
    done
  done
done
echo "phased, each phase alone: $reps repetition(s), scale $scale, $(nproc) CPUs, $(date -u +%F)"
echo "median CPU s / wall s; fixed = the default count (learner off), learner = SPOOL_ALLOC_LEARNER=1"
awk -v cfgs="${configs[*]}" '
  function median(key,   n, i, j, t, v) {
    n = split(vals[key], v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { vals[$1 " " $2 " cpu"] = vals[$1 " " $2 " cpu"] " " $3; vals[$1 " " $2 " wall"] = vals[$1 " " $2 " wall"] " " $4 }
  END {
    nc = split(cfgs, cf, " "); np = split("local handoff churn", ph, " ")
    printf "| phase |"; for (i = 1; i <= nc; i++) printf " %s |", cf[i]; printf "\n|---|"
    for (i = 1; i <= nc; i++) printf "---:|"; printf "\n"
    for (p = 1; p <= np; p++) {
      printf "| %s |", ph[p]
      for (i = 1; i <= nc; i++) {
        c = median(ph[p] " " cf[i] " cpu"); w = median(ph[p] " " cf[i] " wall")
        cpu[ph[p], cf[i]] = c; wall[ph[p], cf[i]] = w
        printf " %.3f / %.3f |", c, w
      }
      printf "\n"
    }
    for (p = 1; p <= np; p++) {
      d = cpu[ph[p], "32"] / cpu[ph[p], "fixed"]
      printf "%s %s %.2f", p == 1 ? "\nnoise gauge (CPU, \"32\" / \"fixed\", the same setting):" : ",", ph[p], d
    }
    printf "\n"
    for (m = 1; m <= 2; m++) {
      fx = 0; ln = 0; best1 = -1; oracle = 0
      for (p = 1; p <= np; p++) {
        fx += m == 1 ? cpu[ph[p], "fixed"] : wall[ph[p], "fixed"]
        ln += m == 1 ? cpu[ph[p], "learner"] : wall[ph[p], "learner"]
        b = -1
        for (i = 3; i <= nc; i++) {
          v = m == 1 ? cpu[ph[p], cf[i]] : wall[ph[p], cf[i]]
          if (b < 0 || v < b) { b = v; bc[p] = cf[i] }
        }
        oracle += b
      }
      for (i = 3; i <= nc; i++) {
        s = 0
        for (p = 1; p <= np; p++) s += m == 1 ? cpu[ph[p], cf[i]] : wall[ph[p], cf[i]]
        if (best1 < 0 || s < best1) { best1 = s; best1c = cf[i] }
      }
      printf "\n%s, all phases: fixed %.3f, learner %.3f (fixed/learner %.2f), best single count %s %.3f (%.2f), best count per phase %s/%s/%s %.3f (%.2f)\n",
        m == 1 ? "CPU s" : "wall s", fx, ln, fx / ln, best1c, best1, fx / best1, bc[1], bc[2], bc[3], oracle, fx / oracle
    }
  }' "$out"
