#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the whole test suite.
# Usage: scripts/test.sh [preset ...]   presets: default asan tsan debug fuzz
# With no argument: default (Release), then asan (ASan+UBSan), then tsan,
# then fuzz: every libFuzzer target from its seeds, 60 s in all (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(default asan tsan fuzz)
jobs=$(nproc)
for p in "${presets[@]}"; do
  echo "=== spool: preset '$p' ==="
  start=$(date +%s)
  if [ "$p" = fuzz ]; then
    bash scripts/fuzz.sh --total 60
    echo "=== spool: preset '$p' passed in $(( $(date +%s) - start )) s ==="
    continue
  fi
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  ctest --preset "$p" -j "$jobs"
  echo "=== spool: preset '$p' passed in $(( $(date +%s) - start )) s ==="
done
