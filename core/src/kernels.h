// Declarations of every kernel pair named by ops.def, generated from it: a
// new row needs no edit here. Definitions: the dispatch wrappers that
// export.h expands in the family's kernel file (Elementwise, Rowwise), or
// that file itself (General, NoGrad); families.def names the file.
#ifndef DLMATH_SRC_KERNELS_H_
#define DLMATH_SRC_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dlmath/registry.h"

namespace dlmath {

// The kernel file of each family: core/src/ops/<kFamilyFile[f]>.cc.
inline constexpr std::string_view kFamilyFile[] = {
#define DLMATH_FAMILY(family, file) #file,
#include "core/src/ops/families.def"
#undef DLMATH_FAMILY
};
namespace detail {
constexpr bool FamiliesInEnumOrder() {
  int i = 0;
  bool ok = true;
#define DLMATH_FAMILY(family, file) \
  ok = ok && static_cast<int>(Family::family) == i++;
#include "core/src/ops/families.def"
#undef DLMATH_FAMILY
  return ok && i == kNumFamilies;
}
}  // namespace detail
static_assert(detail::FamiliesInEnumOrder(),
              "families.def must list every Family once, in enum order");

#define DLMATH_DECLARE_Elementwise(Name)                                   \
  void Name##Forward(const float* x, float* y, size_t n, const double* p); \
  void Name##Backward(const float* x, const float* y, const float* dy,     \
                      float* dx, double* dp, size_t n, const double* p);
#define DLMATH_DECLARE_Rowwise(Name)                                     \
  void Name##Forward(const float* x, float* y, size_t rows, size_t cols, \
                     const double* p);                                   \
  void Name##Backward(const float* x, const float* y, const float* dy,   \
                      float* dx, double* dp, size_t rows, size_t cols,   \
                      const double* p);
#define DLMATH_DECLARE_General(Name)           \
  Status Name##Shape(const ShapeCtx& c);       \
  void Name##Forward(const GenCall<float>& c); \
  void Name##Backward(const GenCall<float>& c);
#define DLMATH_DECLARE_NoGrad(Name)      \
  Status Name##Shape(const ShapeCtx& c); \
  void Name##Forward(const GenCall<float>& c);
#define DLMATH_OP(id, Name, family, form, ...) DLMATH_DECLARE_##form(Name)
#include "dlmath/ops.def"
#undef DLMATH_OP

// Highway target of the kernels currently dispatched to.
const char* KernelTarget();

}  // namespace dlmath

#endif  // DLMATH_SRC_KERNELS_H_
