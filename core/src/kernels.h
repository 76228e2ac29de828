// Declarations of every kernel pair named by ops.def, generated from it: a
// new row needs no edit here. Definitions: the dispatch wrappers that
// export.h expands in each family's .cc (Elementwise, Rowwise), or the family
// .cc itself (General).
#ifndef DLMATH_SRC_KERNELS_H_
#define DLMATH_SRC_KERNELS_H_

#include <cstddef>
#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath {

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
