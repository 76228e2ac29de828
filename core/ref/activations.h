// Float64 scalar references of the elementwise activations: the oracle the SIMD kernels
// are tested against, written for clarity and the PyTorch conventions, not
// speed. Backward functions accumulate like the kernels.
#ifndef DLMATH_REF_ACTIVATIONS_H_
#define DLMATH_REF_ACTIVATIONS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace dlmath::ref {

// ----- elementwise ---------------------------------------------------------

inline double SigmoidForward(double x, const double*, uint64_t) {
  // Stable in both tails: never evaluates exp of a positive number.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
inline void SigmoidBackward(double x, double dy, const double*, uint64_t,
                            double* dx, double*) {
  const double e = std::exp(-std::fabs(x));  // sigma' = e/(1+e)^2, e=e^-|x|
  *dx += dy * (e / ((1 + e) * (1 + e)));
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_ACTIVATIONS_H_
