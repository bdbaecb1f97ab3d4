#!/usr/bin/env bash
# Counts the instructions of the inlined alloc/free fast paths (list
# non-empty): compiles bench/alloc/hotpath.cpp (tiny functions that only call
# them), disassembles each function and counts from its entry to the first
# `ret` — GCC lays the fast path out first and moves the slow path to
# .text.unlikely — excluding the `ret` itself. Both TLS models are shown.
# Usage: bench/alloc/hotpath.sh [compiler flags...]   (default: -O2)
set -euo pipefail
cd "$(dirname "$0")/../.."
cxx=${CXX:-g++}
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-O2)
obj=$(mktemp --suffix=.o)
trap 'rm -f "$obj"' EXIT
for model in local-exec initial-exec; do
  defs=()
  [ $model = initial-exec ] && defs=(-DSPOOL_ALLOC_TLS_INITIAL_EXEC)
  "$cxx" -std=c++20 "${flags[@]}" -DNDEBUG -fPIE "${defs[@]}" -Ialloc/include \
    -c bench/alloc/hotpath.cpp -o "$obj"
  echo "== TLS model: $model ($cxx ${flags[*]})"
  for fn in spool_hotpath_alloc48 spool_hotpath_alloc spool_hotpath_free_nonnull spool_hotpath_free; do
    body=$(objdump -d --no-show-raw-insn -M intel "$obj" |
      awk -v f="<$fn>:" '$2 == f {on=1; next} on && /^$/ {exit} on {print}' |
      awk '{print} /\tret/ {exit}')
    n=$(echo "$body" | grep -vc $'\tret')
    printf '%-28s %2d instructions (+ ret)\n' "$fn" "$n"
    [ "${VERBOSE:-0}" = 1 ] && echo "$body"
  done
done
