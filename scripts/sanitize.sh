#!/usr/bin/env bash
# `npm run check:sanitize` (CI runs it after `npm test`): the native Catch2
# suite under AddressSanitizer + UndefinedBehaviorSanitizer, then each
# libFuzzer target for a fixed time on its committed corpus.
#
# The build (preset "sanitize", build/sanitize) uses clang with
# -fsanitize=address,undefined -fno-sanitize-recover=all and compiles ONE
# Highway target, SSE4 (-DHWY_COMPILE_ONLY_STATIC -msse4.2 -mpclmul -maes):
# 128-bit vectors like the browser's wasm SIMD, and a quarter of the
# default build's compile time (which builds every x86 target for dynamic
# dispatch).
#
#   FUZZ_SECONDS  time per fuzz target (default 60)
#   FUZZ_MERGE=1  also merge what the run found into the committed corpus
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD"
seconds=${FUZZ_SECONDS:-60}

mkdir -p build
if [ ! -f build/sanitize/build.ninja ]; then
  cmake --preset sanitize >build/sanitize.configure.log 2>&1 ||
    { cat build/sanitize.configure.log; exit 1; }
fi
echo "sanitize: build"
cmake --build --preset sanitize

echo "sanitize: Catch2 under ASan + UBSan"
ctest --preset sanitize

for target in call formula; do
  corpus=tests/fuzz/corpus/$target
  found=build/sanitize/fuzz-found/$target
  mkdir -p "$found"
  echo "sanitize: fuzz_$target for ${seconds}s ($(ls "$corpus" | wc -l) corpus inputs)"
  # New inputs go to build/ (the first directory); the committed corpus is
  # only read. Crashes are written to build/sanitize/ and fail the run.
  build/sanitize/fuzz_$target "$found" "$corpus" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix=build/sanitize/fuzz_$target- 2>&1 | tail -n 12
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    build/sanitize/fuzz_$target -merge=1 "$corpus" "$found" 2>&1 | tail -n 1
  fi
done
echo "sanitize: clean"
