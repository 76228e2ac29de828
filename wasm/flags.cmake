# Every Emscripten flag of the project lives here (and in wasm/CMakeLists.txt).

function(dlmath_wasm_compile_options target)
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
