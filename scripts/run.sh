#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs Spool's main job: the sample
# workload on the default device, printing its verdicts; also builds the
# `spool` command (build/default/tools/spool/spool).
# Usage: scripts/run.sh [sample arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target spool_heat_chain spool_cli -j "$(nproc)"
exec ./build/default/samples/heat_chain/spool_heat_chain "$@"
