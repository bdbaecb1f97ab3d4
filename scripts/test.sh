#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the whole test suite.
# Usage: scripts/test.sh [preset ...]   presets: default asan tsan debug
# With no argument: default (Release), then asan (ASan+UBSan), then tsan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(default asan tsan)
jobs=$(nproc)
for p in "${presets[@]}"; do
  echo "=== spool: preset '$p' ==="
  start=$(date +%s)
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  ctest --preset "$p" -j "$jobs"
  echo "=== spool: preset '$p' passed in $(( $(date +%s) - start )) s ==="
done
