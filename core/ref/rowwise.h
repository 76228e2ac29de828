// Float64 references of the row-wise and General-form activations (softmax
// family, glu, prelu, swiglu): the oracle for the kernels. Clarity and PyTorch
// conventions over speed. Backward functions accumulate like the kernels.
#ifndef DLMATH_REF_ROWWISE_H_
#define DLMATH_REF_ROWWISE_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath::ref {

// ----- row-wise (one row of n) ---------------------------------------------

inline double RowMax(const double* x, size_t n) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = (x[i] > m || std::isnan(x[i])) ? x[i] : m;
  return m;
}

inline void SoftmaxForward(const double* x, double* y, size_t n,
                           const double*) {
  const double m = RowMax(x, n);
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
  for (size_t i = 0; i < n; ++i) y[i] /= s;
}
inline void SoftmaxBackward(const double*, const double* y, const double* dy,
                            double* dx, double*, size_t n, const double*) {
  double dot = 0;
  for (size_t i = 0; i < n; ++i) dot += dy[i] * y[i];
  for (size_t i = 0; i < n; ++i) dx[i] += y[i] * (dy[i] - dot);
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_ROWWISE_H_
