#!/usr/bin/env bash
# Installs whatever is missing, and nothing else: Debian packages (only the
# missing ones, non-interactively), then npm packages from package-lock.json.
# Safe to run again: a second run finds everything and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-torch (+ OpenBLAS): PyTorch fixtures and the check of exported models;
# clang + its runtimes: the libFuzzer and sanitizer builds.
packages=(cmake ninja-build g++ emscripten libhwy-dev libeigen3-dev catch2 chromium clang-format fonts-wqy-microhei ccache
  python3-torch libopenblas0-pthread clang libclang-rt-14-dev libfuzzer-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm writes node_modules/.package-lock.json on every install: if it is older
# than the lock file (or absent), the tree is stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
fi
