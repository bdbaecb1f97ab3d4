#!/usr/bin/env bash
# Installs the Debian 12 packages Spool needs to build, test and benchmark.
# Idempotent: when everything is present it checks dpkg and exits quickly.
# Usage: scripts/deps.sh            (needs root, or sudo when not root)
set -euo pipefail

PKGS=(
  g++ cmake make ninja-build pkg-config git
  libvulkan-dev vulkan-tools mesa-vulkan-drivers glslc
  spirv-cross libspirv-cross-c-shared-dev spirv-tools
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 nlohmann-json3-dev libcli11-dev gnuplot-nox
  libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev
  valgrind binutils
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "spool deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "spool deps: done"
