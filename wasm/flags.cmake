# Every Emscripten flag of the project lives here (and in wasm/CMakeLists.txt).

function(dlmath_wasm_compile_options target)
  # Two post-MVP features every browser we support has (Chrome 75+, Firefox
  # 79+, Safari 15+, Node 16+), for all wasm code:
  # -mbulk-memory: memset/memcpy of a run-time size become memory.fill /
  #   memory.copy, which V8 runs as its native memset/memmove; without it
  #   they call libc's wasm loops (4 bytes a step), ~9 % of the small MLP's
  #   step (zeroing gradients, the losses' frames, the fit's batch rows).
  # -mnontrapping-fptoint: float -> int conversions are one instruction,
  #   not a range check around a trapping one.
  # Measured on the 2-8-8-1 fit (node --no-liftoff under callgrind, x86
  # instructions per step): 47.3k -> 45.2k. -flto on top gave nothing
  # (44.9k against 44.7k for the same flags with gemm.cc's bulk memory; and
  # every test binary would link through LTO), not used.
  set(features -mbulk-memory -mnontrapping-fptoint)
  target_compile_options(${target} INTERFACE ${features})
  target_link_options(${target} INTERFACE ${features})
  # LLVM 14 keeps thread_local variables once bulk memory is on and wasm-ld
  # then refuses them without atomics (threads): gemm.cc's per-thread
  # packing space compiles without bulk memory (its TLS becomes a plain
  # global, as it is without threads anyway).
  set_source_files_properties(${CMAKE_SOURCE_DIR}/core/src/ops/gemm.cc
    DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTIES COMPILE_OPTIONS -mno-bulk-memory)
  if(DLMATH_WASM_SIMD)
    # -msimd128: Highway's static target becomes WASM (without it: EMU128,
    # scalar). Not -msse4.1: Eigen 3.4 then takes its SSE path, whose
    # GCC-workaround inline asm ("+x" constraints) clang cannot emit for
    # wasm; Eigen stays scalar in wasm until products move to Highway.
    target_compile_options(${target} INTERFACE -msimd128)
  endif()
endfunction()

# Catch2 test binaries: one self-contained .js each, run by node via CTest.
# Catch2 v2 reports failed assertions by throwing, hence -fexceptions here
# (the library itself never throws).
# .cjs: the repository's package.json says "type": "module", and Emscripten's
# node output is CommonJS.
function(dlmath_wasm_test_options target)
  target_compile_options(${target} PRIVATE -fexceptions)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES SUFFIX ".cjs")
  endif()
  # NODERAWFS: the tests read fixtures from the source tree through Node's
  # file system, the same files and code path as natively.
  target_link_options(${target} PRIVATE -fexceptions -sSINGLE_FILE=1 -sEXIT_RUNTIME=1
    -sASSERTIONS=1 -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2GB
    -sNODERAWFS=1)
endfunction()

# Benchmark drivers run by Node (bench/gemm.cc): one self-contained .cjs,
# no exceptions, nothing that slows the timed code (no ASSERTIONS).
function(dlmath_wasm_bench_options target)
  set_target_properties(${target} PROPERTIES SUFFIX ".cjs")
  target_link_options(${target} PRIVATE -sSINGLE_FILE=1 -sEXIT_RUNTIME=1
    -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2GB)
endfunction()

# Code no training step runs (the formula parser, the model's spec and JSON
# readers and its PyTorch export, the ops' bindings, the kernels of catalogue
# entries that only plot a few hundred points) compiles for size in every
# wasm build: -O3's inlining and unrolling there made the shipped wasm
# larger and nothing visibly faster.
# Files built on Eigen take -O2 instead: at -Os clang stops inlining
# Eigen's small expression functions and the code grows (regression.cc's
# object: 97 KB at -O3, 91 KB at -O2, 217 KB at -Os).
# Everything a training step can reach keeps -O3: the model and its bindings
# (wasm/model.cc copies each batch in), the GEMM, the runtime and the
# registry, activations, losses, norms, optimizers, schedules, metrics,
# numerics and regularization (every step measures the gradient norms
# through clip_grad_norm). Measured side by side: activations and losses at
# -Os saved 6 KB gzip more and cost the small MLP's step ~8 %.
# Paths relative to the source root.
set(DLMATH_WASM_SIZE_SOURCES
  core/src/formula.cc
  core/src/model/spec.cc
  core/src/model/export.cc
  core/src/model/json.cc
  wasm/bindings.cc)
set(DLMATH_WASM_COLD_EIGEN_SOURCES
  core/src/ops/attention.cc
  core/src/ops/distances.cc
  core/src/ops/graph.cc
  core/src/ops/init.cc
  core/src/ops/regression.cc)

# Source properties belong to a directory: set them for the targets of the
# root (the library) and of wasm/ (the module).
function(dlmath_wasm_size_options)
  set(dirs DIRECTORY ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/wasm)
  list(TRANSFORM DLMATH_WASM_SIZE_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/ OUTPUT_VARIABLE small)
  set_source_files_properties(${small} ${dirs} PROPERTIES COMPILE_OPTIONS -Os)
  list(TRANSFORM DLMATH_WASM_COLD_EIGEN_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/ OUTPUT_VARIABLE eigen)
  set_source_files_properties(${eigen} ${dirs} PROPERTIES COMPILE_OPTIONS -O2)
endfunction()
