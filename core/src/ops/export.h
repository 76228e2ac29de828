// Expands ops.def into the dispatch wrappers of one kernel family. Include it
// at namespace dlmath scope, in the HWY_ONCE part of the family's kernel file
// (families.def names it), after defining DLMATH_IF_<family>(...) as
// __VA_ARGS__ for that one family: rows of other families expand to nothing.
// Every family's file is a Highway per-target file, so a row of any Form can
// join any family.
//
//   native: HWY_EXPORT + HWY_DYNAMIC_DISPATCH (best target at run time);
//   wasm:   one static target (WASM), called directly.
//
// Checked while compiling: exactly one family is selected, and the file
// including this one is that family's file in families.def, so no family has
// two kernel files (each row's wrappers are defined exactly once) and no file
// defines another family's rows.

// It includes nothing itself: the .cc includes core/src/kernels.h and
// core/src/ops/dispatch.h first, at global scope.

#if !defined(HWY_TARGET_INCLUDE) || !defined(HWY_ONCE)
#error "include export.h in the HWY_ONCE part of a Highway per-target file"
#endif

#define DLMATH_EXPORT_Elementwise(Name)                                     \
  DLMATH_HWY_EXPORT(Name##Forward)                                          \
  DLMATH_HWY_EXPORT(Name##Backward)                                         \
  void Name##Forward(const float* x, float* y, size_t n, const double* p) { \
    DLMATH_DISPATCH(Name##Forward)(x, y, n, p);                             \
  }                                                                         \
  void Name##Backward(const float* x, const float* y, const float* dy,      \
                      float* dx, double* dp, size_t n, const double* p) {   \
    DLMATH_DISPATCH(Name##Backward)(x, y, dy, dx, dp, n, p);                \
  }
#define DLMATH_EXPORT_Rowwise(Name)                                      \
  DLMATH_HWY_EXPORT(Name##Forward)                                       \
  DLMATH_HWY_EXPORT(Name##Backward)                                      \
  void Name##Forward(const float* x, float* y, size_t rows, size_t cols, \
                     const double* p) {                                  \
    DLMATH_DISPATCH(Name##Forward)(x, y, rows, cols, p);                 \
  }                                                                      \
  void Name##Backward(const float* x, const float* y, const float* dy,   \
                      float* dx, double* dp, size_t rows, size_t cols,   \
                      const double* p) {                                 \
    DLMATH_DISPATCH(Name##Backward)(x, y, dy, dx, dp, rows, cols, p);    \
  }
// General ops define NameShape/NameForward/NameBackward in the family .cc.
#define DLMATH_EXPORT_General(Name)
#define DLMATH_EXPORT_NoGrad(Name)

// Families not selected by the including file expand to nothing.
#ifndef DLMATH_IF_activations
#define DLMATH_IF_activations(...)
#endif
#ifndef DLMATH_IF_losses
#define DLMATH_IF_losses(...)
#endif
#ifndef DLMATH_IF_regularization
#define DLMATH_IF_regularization(...)
#endif
#ifndef DLMATH_IF_normalization
#define DLMATH_IF_normalization(...)
#endif
#ifndef DLMATH_IF_initialization
#define DLMATH_IF_initialization(...)
#endif
#ifndef DLMATH_IF_distances
#define DLMATH_IF_distances(...)
#endif
#ifndef DLMATH_IF_attention
#define DLMATH_IF_attention(...)
#endif
#ifndef DLMATH_IF_optimizers
#define DLMATH_IF_optimizers(...)
#endif
#ifndef DLMATH_IF_schedules
#define DLMATH_IF_schedules(...)
#endif
#ifndef DLMATH_IF_numerics
#define DLMATH_IF_numerics(...)
#endif
#ifndef DLMATH_IF_metrics
#define DLMATH_IF_metrics(...)
#endif
#ifndef DLMATH_IF_graph
#define DLMATH_IF_graph(...)
#endif
#ifndef DLMATH_IF_regression
#define DLMATH_IF_regression(...)
#endif

namespace {
// Every family of families.def has its DLMATH_IF_ above (an undefined one
// stops here); the including file selected exactly one of them.
constexpr int kExportedFamilies = 0
#define DLMATH_FAMILY(family, file) DLMATH_IF_##family(+1)
#include "core/src/ops/families.def"
#undef DLMATH_FAMILY
    ;
static_assert(kExportedFamilies == 1,
              "define exactly one DLMATH_IF_<family> before export.h");
constexpr Family kExportedFamily = static_cast<Family>(0
#define DLMATH_FAMILY(family, file) \
  DLMATH_IF_##family(+static_cast<int>(Family::family))
#include "core/src/ops/families.def"
#undef DLMATH_FAMILY
);
constexpr bool IsFamilyFile(std::string_view path, std::string_view file) {
  const std::string_view dir = "core/src/ops/", ext = ".cc";
  if (path.size() < dir.size() + file.size() + ext.size()) return false;
  path.remove_prefix(path.size() - dir.size() - file.size() - ext.size());
  return path.substr(0, dir.size()) == dir &&
         path.substr(dir.size(), file.size()) == file &&
         path.substr(dir.size() + file.size()) == ext;
}
static_assert(IsFamilyFile(__BASE_FILE__,
                           kFamilyFile[static_cast<int>(kExportedFamily)]),
              "this family's rows belong in the file families.def names");
}  // namespace

#define DLMATH_OP(id, Name, family, form, ...) \
  DLMATH_IF_##family(DLMATH_EXPORT_##form(Name))
#include "dlmath/ops.def"
#undef DLMATH_OP
