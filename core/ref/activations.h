// Float64 scalar references of the elementwise activations: the oracle the SIMD
// kernels are tested against, written for clarity and the PyTorch conventions,
// not speed. Backward functions accumulate like the kernels.
#ifndef DLMATH_REF_ACTIVATIONS_H_
#define DLMATH_REF_ACTIVATIONS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

#include "core/src/random.h"
#include "dlmath/registry.h"

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

// Shared by several references below.
inline double RefSigmoid(double x) { return SigmoidForward(x, nullptr, 0); }
// sigma'(x) = e/(1+e)^2 with e = e^-|x|: no cancellation in either tail.
inline double RefSigmoidSlope(double x) {
  const double e = std::exp(-std::fabs(x));
  return e / ((1 + e) * (1 + e));
}
// Piecewise derivatives give NaN at NaN, like the smooth ones (PyTorch would
// pass dy through); the kernels do the same.
inline double NaNOr(double x, double slope) {
  return std::isnan(x) ? x : slope;
}

inline double TanhForward(double x, const double*, uint64_t) {
  return std::tanh(x);
}
inline void TanhBackward(double x, double dy, const double*, uint64_t,
                         double* dx, double*) {
  const double t = std::tanh(x);
  *dx += dy * (1 - t * t);
}

// relu(-0) = +0 and relu(NaN) = NaN; relu'(0) = 0.
inline double ReluForward(double x, const double*, uint64_t) {
  return x > 0 ? x : x <= 0 ? 0.0 : x;
}
inline void ReluBackward(double x, double dy, const double*, uint64_t,
                         double* dx, double*) {
  *dx += dy * NaNOr(x, x > 0 ? 1.0 : 0.0);
}

// x * negative_slope for x <= 0 (so -0 -> -0); slope at 0.
inline double LeakyReluForward(double x, const double* p, uint64_t) {
  return x > 0 ? x : x * p[DLMATH_PARAM(leaky_relu, negative_slope)];
}
inline void LeakyReluBackward(double x, double dy, const double* p, uint64_t,
                              double* dx, double*) {
  *dx +=
      dy * NaNOr(x, x > 0 ? 1.0 : p[DLMATH_PARAM(leaky_relu, negative_slope)]);
}

// rrelu's counter-based RNG (core/src/random.h); the kernel
// (activations-inl.h, RreluSlopes) must compute the same bits.
// Uniform in [0, 1) with 24 bits for element i of a call with this seed.
inline double RreluUniform(uint32_t seed, uint64_t i) {
  const uint32_t key = Mix32Scalar(
      seed ^ Mix32Scalar(static_cast<uint32_t>(i >> 32) ^ 0x9e3779b9u));
  const uint32_t h =
      Mix32Scalar(Mix32Scalar(static_cast<uint32_t>(i) + key) ^ key);
  return (h >> 8) * 0x1p-24;
}
// Params lower, upper, training, seed. Eval: slope (lower + upper)/2.
// Training: slope lower + (upper - lower) u_i for x <= 0 (PyTorch draws for
// x <= 0 too), 1 above.
inline double RreluSlope(double x, const double* p, uint64_t i) {
  if (x > 0) return 1.0;
  const double lower = p[DLMATH_PARAM(rrelu, lower)];
  const double upper = p[DLMATH_PARAM(rrelu, upper)];
  if (p[DLMATH_PARAM(rrelu, training)] == 0) return 0.5 * (lower + upper);
  const auto seed = static_cast<uint32_t>(p[DLMATH_PARAM(rrelu, seed)]);
  return lower + (upper - lower) * RreluUniform(seed, i);
}
inline double RreluForward(double x, const double* p, uint64_t i) {
  return x > 0 ? x : x * RreluSlope(x, p, i);
}
inline void RreluBackward(double x, double dy, const double* p, uint64_t i,
                          double* dx, double*) {
  *dx += dy * NaNOr(x, RreluSlope(x, p, i));
}

// alpha (e^x - 1) for x <= 0; derivative alpha e^x there (PyTorch takes
// that side at 0).
inline double EluForward(double x, const double* p, uint64_t) {
  return x > 0 ? x : p[DLMATH_PARAM(elu, alpha)] * std::expm1(x);
}
inline void EluBackward(double x, double dy, const double* p, uint64_t,
                        double* dx, double*) {
  *dx += dy * (x > 0 ? 1.0 : p[DLMATH_PARAM(elu, alpha)] * std::exp(x));
}

inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluScale = 1.0507009873554804934193349852946;
inline double SeluForward(double x, const double*, uint64_t) {
  return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x));
}
inline void SeluBackward(double x, double dy, const double*, uint64_t,
                         double* dx, double*) {
  *dx += dy * kSeluScale * (x > 0 ? 1.0 : kSeluAlpha * std::exp(x));
}

// alpha > 0. max(0, x) + min(0, alpha (e^{x/alpha} - 1)).
inline double CeluForward(double x, const double* p, uint64_t) {
  const double alpha = p[DLMATH_PARAM(celu, alpha)];
  return x > 0 ? x : alpha * std::expm1(x / alpha);
}
inline void CeluBackward(double x, double dy, const double* p, uint64_t,
                         double* dx, double*) {
  *dx += dy * (x > 0 ? 1.0 : std::exp(x / p[DLMATH_PARAM(celu, alpha)]));
}

// x Phi(x), Phi(x) = erfc(-x/sqrt2)/2: the erfc form has no cancellation in
// the left tail. gelu(-inf) = -0 (the limit; x * 0 would be NaN).
inline double GeluErfForward(double x, const double*, uint64_t) {
  if (x == -INFINITY) return -0.0;
  return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}
inline void GeluErfBackward(double x, double dy, const double*, uint64_t,
                            double* dx, double*) {
  if (std::isinf(x)) {
    *dx += dy * (x > 0 ? 1.0 : 0.0);
    return;
  }
  const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
  const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
  *dx += dy * (cdf + x * pdf);
}

// x (1 + tanh u)/2 = x sigma(2u), u = sqrt(2/pi) (x + 0.044715 x^3). The
// sigma form is the stable one: 1 + tanh u cancels to 0 for u < -19.
inline double GeluTanhU(double x) {
  return std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x);
}
inline double GeluTanhForward(double x, const double*, uint64_t) {
  if (x == -INFINITY) return -0.0;
  return x * RefSigmoid(2 * GeluTanhU(x));
}
inline void GeluTanhBackward(double x, double dy, const double*, uint64_t,
                             double* dx, double*) {
  if (std::isinf(x)) {
    *dx += dy * (x > 0 ? 1.0 : 0.0);
    return;
  }
  const double w = 2 * GeluTanhU(x);
  const double dw =
      2 * std::sqrt(2 / std::numbers::pi) * (1 + 3 * 0.044715 * x * x);
  *dx += dy * (RefSigmoid(w) + x * RefSigmoidSlope(w) * dw);
}

// x sigma(x); silu(-inf) = -0 (the limit).
inline double SiluForward(double x, const double*, uint64_t) {
  if (x == -INFINITY) return -0.0;
  return x * RefSigmoid(x);
}
inline void SiluBackward(double x, double dy, const double*, uint64_t,
                         double* dx, double*) {
  if (std::isinf(x)) {
    *dx += dy * (x > 0 ? 1.0 : 0.0);
    return;
  }
  *dx += dy * (RefSigmoid(x) + x * RefSigmoidSlope(x));
}

// beta learnable. x sigma(beta x). Where beta x is infinite the product
// takes its limit (a signed zero, or x).
inline double SwishBetaForward(double x, const double* p, uint64_t) {
  const double t = p[DLMATH_PARAM(swish_beta, beta)] * x;
  if (std::isinf(t)) return t > 0 ? x : std::copysign(0.0, x);
  return x * RefSigmoid(t);
}
inline void SwishBetaBackward(double x, double dy, const double* p, uint64_t,
                              double* dx, double* dp) {
  const int k = DLMATH_PARAM(swish_beta, beta);
  const double t = p[k] * x;
  if (std::isinf(t)) {  // sigma' = 0 and sigma is 0 or 1; no x^2 * 0 = NaN
    *dx += dy * (t > 0 ? 1.0 : 0.0);
    return;
  }
  const double slope = RefSigmoidSlope(t);
  *dx += dy * (RefSigmoid(t) + t * slope);
  dp[k] += dy * x * x * slope;
}

// x tanh(softplus x), softplus x = log1p(e^x) computed stably.
inline double RefSoftplus1(double x) {
  return std::fmax(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
}
inline double MishForward(double x, const double*, uint64_t) {
  if (x == -INFINITY) return -0.0;
  return x * std::tanh(RefSoftplus1(x));
}
inline void MishBackward(double x, double dy, const double*, uint64_t,
                         double* dx, double*) {
  if (std::isinf(x)) {
    *dx += dy * (x > 0 ? 1.0 : 0.0);
    return;
  }
  const double t = std::tanh(RefSoftplus1(x));
  *dx += dy * (t + x * (1 - t * t) * RefSigmoid(x));
}

// beta > 0, threshold. PyTorch: x where beta x > threshold, else
// log(1 + e^{beta x})/beta; the derivative is sigma(beta x) (1 above).
inline double SoftplusForward(double x, const double* p, uint64_t) {
  const double beta = p[DLMATH_PARAM(softplus, beta)];
  const double t = beta * x;
  if (t > p[DLMATH_PARAM(softplus, threshold)]) return x;
  return (std::fmax(t, 0.0) + std::log1p(std::exp(-std::fabs(t)))) / beta;
}
inline void SoftplusBackward(double x, double dy, const double* p, uint64_t,
                             double* dx, double*) {
  const double t = p[DLMATH_PARAM(softplus, beta)] * x;
  *dx += dy * (t > p[DLMATH_PARAM(softplus, threshold)] ? 1.0 : RefSigmoid(t));
}

// x/(1 + |x|); softsign(+-inf) = +-1.
inline double SoftsignForward(double x, const double*, uint64_t) {
  if (std::isinf(x)) return std::copysign(1.0, x);
  return x / (1 + std::fabs(x));
}
inline void SoftsignBackward(double x, double dy, const double*, uint64_t,
                             double* dx, double*) {
  const double r = 1 / (1 + std::fabs(x));
  *dx += dy * r * r;
}

// min_val, max_val. min(max(x, lo), hi) keeping NaN; derivative 1
// strictly inside, 0 on the bounds and beyond (PyTorch).
inline double RefClamp(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}
inline double RefClampSlope(double x, double lo, double hi) {
  return NaNOr(x, x > lo && x < hi ? 1.0 : 0.0);
}
inline double HardtanhForward(double x, const double* p, uint64_t) {
  return RefClamp(RefClamp(x, p[DLMATH_PARAM(hardtanh, min_val)], INFINITY),
                  -INFINITY, p[DLMATH_PARAM(hardtanh, max_val)]);
}
inline void HardtanhBackward(double x, double dy, const double* p, uint64_t,
                             double* dx, double*) {
  *dx += dy * RefClampSlope(x, p[DLMATH_PARAM(hardtanh, min_val)],
                            p[DLMATH_PARAM(hardtanh, max_val)]);
}

// min(relu(x), 6): relu6(-0) = +0 as relu.
inline double Relu6Forward(double x, const double*, uint64_t) {
  return RefClamp(ReluForward(x, nullptr, 0), 0, 6);
}
inline void Relu6Backward(double x, double dy, const double*, uint64_t,
                          double* dx, double*) {
  *dx += dy * RefClampSlope(x, 0, 6);
}

// relu6(x + 3)/6.
inline double HardsigmoidForward(double x, const double*, uint64_t) {
  return x <= -3 ? 0.0 : x >= 3 ? 1.0 : x / 6 + 0.5;
}
inline void HardsigmoidBackward(double x, double dy, const double*, uint64_t,
                                double* dx, double*) {
  *dx += dy * RefClampSlope(x, -3, 3) / 6;
}

// x relu6(x + 3)/6; -0 for x <= -3 (PyTorch's x * 0, and the limit at -inf).
// PyTorch's derivative: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above.
inline double HardswishForward(double x, const double*, uint64_t) {
  if (x <= -3) return -0.0;
  return x >= 3 ? x : x * (x + 3) / 6;
}
inline void HardswishBackward(double x, double dy, const double*, uint64_t,
                              double* dx, double*) {
  *dx += dy * (x < -3 ? 0.0 : x > 3 ? 1.0 : x / 3 + 0.5);
}

// log sigma(x) = min(x, 0) - log1p(e^{-|x|}) (PyTorch's formula: +0 at
// +inf); derivative sigma(-x).
inline double LogsigmoidForward(double x, const double*, uint64_t) {
  return std::fmin(x, 0.0) - std::log1p(std::exp(-std::fabs(x)));
}
inline void LogsigmoidBackward(double x, double dy, const double*, uint64_t,
                               double* dx, double*) {
  *dx += dy * RefSigmoid(-x);
}

// x - tanh x. For |x| < 0.01 the series x^3/3 - 2x^5/15 + 17x^7/315 -
// 62x^9/2835 (relative error < 1e-17), since x - tanh x cancels there;
// it is odd, so -0 -> -0.
inline double TanhshrinkForward(double x, const double*, uint64_t) {
  if (std::fabs(x) < 0.01) {
    const double s = x * x;
    return x * s *
           (1.0 / 3 + s * (-2.0 / 15 + s * (17.0 / 315 + s * (-62.0 / 2835))));
  }
  return x - std::tanh(x);
}
inline void TanhshrinkBackward(double x, double dy, const double*, uint64_t,
                               double* dx, double*) {
  const double t = std::tanh(x);
  *dx += dy * t * t;
}

inline double ErfForward(double x, const double*, uint64_t) {
  return std::erf(x);
}
inline void ErfBackward(double x, double dy, const double*, uint64_t,
                        double* dx, double*) {
  *dx += dy * 2 / std::sqrt(std::numbers::pi) * std::exp(-x * x);
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_ACTIVATIONS_H_
