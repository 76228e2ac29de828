#!/usr/bin/env bash
# Builds what is asked, incrementally (CMake + Ninja keep the cache in build/):
#   wasm   the wasm module, the generated TS op list and the JS package (engine and custom elements)
#   native the native library and tests
#   all    both
#   bench  both, plus the benchmark drivers (native, and wasm for the GEMM rows)
#          and the no-SIMD wasm module
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs  # Debian's emcc loads acorn from there
# ccache keys on paths relative to the checkout, so clones and worktrees share hits.
export CCACHE_BASEDIR="$PWD"

configure() {  # preset [extra cache args...]
  local preset=$1 dir=build/$1
  shift
  if [ ! -f "$dir/build.ninja" ] || [ "$#" -gt 0 ]; then
    cmake --preset "$preset" "$@" >"$dir.configure.log" 2>&1 ||
      { mkdir -p build; cat "$dir.configure.log"; exit 1; }
  fi
}

build_preset() {  # preset
  echo "build: $1"
  cmake --build --preset "$1"
}

build_wasm() {
  mkdir -p build
  configure wasm "$@"
  build_preset wasm
  node scripts/gen-ops.mjs
  npx tsc -p web/tsconfig.lib.json
  mkdir -p web/dist/lib/gen
  # Both modules (wasm/CMakeLists.txt): the light one for catalogue pages, the full one for what trains.
  cp web/src/engine/gen/dlmath_{lite,wasm}.{mjs,wasm} web/src/engine/gen/ops.json web/dist/lib/gen/
  # The package's custom elements (dist/elements), which import the engine above; the build also writes
  # .br and .gz beside the engine's wasm, glue and ops.json (web/vite.elements.config.ts).
  npx vite build --config web/vite.elements.config.ts --logLevel warn
}

build_native() {
  mkdir -p build
  configure native "$@"
  build_preset native
}

case "${1:-all}" in
  wasm) build_wasm ;;
  native) build_native ;;
  all) build_native && build_wasm ;;
  bench)
    build_native -DDLMATH_BENCH=ON
    build_wasm -DDLMATH_BENCH=ON
    mkdir -p build
    configure wasm-nosimd
    build_preset wasm-nosimd
    ;;
  *) echo "usage: scripts/build.sh [wasm|native|all|bench]" >&2; exit 2 ;;
esac
