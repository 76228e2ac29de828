// The registry's table as a library build keeps it. Native builds, the tests
// and the metadata generator keep every row as ops.def writes it. The shipped
// wasm (DLMATH_SHIPPED, set by wasm/CMakeLists.txt) keeps only what running
// and checking a call needs: what people read (titles, LaTeX, explanations,
// samples, ranges, the tolerances' reasons) and the float64 references (the
// tests' oracle) are dropped at compile time, so neither that text nor the
// reference code reaches the module. The page reads the text from ops.json
// (scripts/gen-ops.mjs).
#ifndef DLMATH_CORE_SRC_REGISTRY_TABLE_H_
#define DLMATH_CORE_SRC_REGISTRY_TABLE_H_

#include <array>
#include <cstddef>
#include <utility>

#include "dlmath/registry.h"

namespace dlmath {

constexpr OpInfo TableRow(OpInfo op) {
#ifdef DLMATH_SHIPPED
  op.title_en = op.title_zh = op.sample = op.latex = op.dlatex = op.en = op.zh =
      "";
  op.props.range = "";
  op.tol.why = nullptr;
  op.impl.ew_ref_fwd = nullptr;
  op.impl.ew_ref_bwd = nullptr;
  op.impl.row_ref_fwd = nullptr;
  op.impl.row_ref_bwd = nullptr;
  op.impl.gen_ref_fwd = nullptr;
  op.impl.gen_ref_bwd = nullptr;
#endif
  return op;
}

template <size_t N, size_t... I>
constexpr std::array<OpInfo, N> RegistryTable(const OpInfo (&rows)[N],
                                              std::index_sequence<I...>) {
  return {TableRow(rows[I])...};
}

// The table computed from the rows at compile time; `rows` itself is never
// emitted.
template <size_t N>
constexpr std::array<OpInfo, N> RegistryTable(const OpInfo (&rows)[N]) {
  return RegistryTable(rows, std::make_index_sequence<N>());
}

}  // namespace dlmath

#endif  // DLMATH_CORE_SRC_REGISTRY_TABLE_H_
