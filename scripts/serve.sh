#!/usr/bin/env bash
# Serves the playground with Vite's dev server on 127.0.0.1 (port 5173, or
# the next free one; Vite prints the URL). Needs the wasm module built first:
# `npm start` runs scripts/build.sh wasm before this. Never prompts.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f web/src/engine/gen/dlmath_wasm.wasm ] || [ ! -f web/src/engine/gen/ops.ts ]; then
  echo "serve: the wasm module is missing; run: bash scripts/build.sh wasm" >&2
  exit 1
fi

echo "serve: starting the playground on http://127.0.0.1 (Ctrl+C stops it)"
exec npx --no-install vite --config web/vite.config.ts --host 127.0.0.1 --port "${PORT:-5173}" --clearScreen false
