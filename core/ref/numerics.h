// Float64 references of the numerics family (gradient clipping and the naive,
// unstable softmax / logsumexp / bce): the oracle for
// core/src/ops/numerics.cc. Backward functions accumulate like the kernels.
//
// The naive ops exist to show float32 overflow, so their references work in
// double but give every intermediate float32's RANGE (FloatRange: +-inf
// beyond float's overflow threshold, 0 below its smallest subnormal; 1 + e
// is 1 when float would absorb e). Only the range is emulated, not float's
// rounding, so the reference stays smooth for the finite-difference check
// and matches the kernels' inf / NaN pattern bit for bit.
#ifndef DLMATH_REF_NUMERICS_H_
#define DLMATH_REF_NUMERICS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath::ref {

// v as float32 would hold it, range-wise: |v| >= 2^128 - 2^103 (rounds past
// FLT_MAX) -> +-inf, |v| <= 2^-150 (rounds below half the smallest
// subnormal) -> +-0, anything else unchanged.
inline double FloatRange(double v) {
  const double a = std::fabs(v);
  if (a >= 0x1.ffffffp127) return std::copysign(INFINITY, v);
  if (a <= 0x1p-150) return std::copysign(0.0, v);
  return v;
}

// ----- clip_grad_value ------------------------------------------------------
inline double ClipGradValueForward(double x, const double* p, uint64_t) {
  const double c = p[DLMATH_PARAM(clip_grad_value, clip_value)];
  if (std::isnan(x)) return x;
  return x < -c ? -c : x > c ? c : x;
}
// torch.clamp's backward: the gradient passes for -c <= x <= c (bounds
// included), 0 beyond them and at NaN.
inline void ClipGradValueBackward(double x, double dy, const double* p,
                                  uint64_t, double* dx, double*) {
  if (x >= -p[DLMATH_PARAM(clip_grad_value, clip_value)] &&
      x <= p[DLMATH_PARAM(clip_grad_value, clip_value)])
    *dx += dy;
}

// ----- clip_grad_norm -------------------------------------------------------
inline void ClipGradNormForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int64_t k = c.in[1] ? c.in_shape[1].numel() : 1;
  const double p = c.p[DLMATH_PARAM(clip_grad_norm, norm_type)];
  const bool inf = c.p[DLMATH_PARAM(clip_grad_norm, inf_norm)] != 0;
  // Per-piece norms first, then the norm of the norms (PyTorch's order).
  double total_acc = 0;
  int64_t start = 0;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t len = c.in[1] ? static_cast<int64_t>(c.in[1][j]) : n;
    double acc = 0;
    for (int64_t i = start; i < start + len; ++i) {
      const double a = std::fabs(c.in[0][i]);
      if (inf)
        acc = (a > acc || std::isnan(a)) ? a : acc;
      else
        acc += std::pow(a, p);
    }
    const double norm = inf ? acc : std::pow(acc, 1 / p);
    c.aux[2][j] = norm;
    if (inf)
      total_acc = (norm > total_acc || std::isnan(norm)) ? norm : total_acc;
    else
      total_acc += std::pow(norm, p);
    start += len;
  }
  const double total = inf ? total_acc : std::pow(total_acc, 1 / p);
  const double coef =
      c.p[DLMATH_PARAM(clip_grad_norm, max_norm)] / (total + 1e-6);
  const double scale = coef > 1 ? 1 : coef;
  c.aux[0][0] = total;
  c.aux[1][0] = scale;
  for (int64_t i = 0; i < n; ++i) c.out[i] = c.in[0][i] * scale;
}

// ----- softmax_naive / logsumexp_naive (one row) -----------------------------
inline double NaiveExpSum(const double* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += FloatRange(std::exp(x[i]));
  return FloatRange(s);
}
inline void SoftmaxNaiveForward(const double* x, double* y, size_t n,
                                const double*) {
  const double s = NaiveExpSum(x, n);
  for (size_t i = 0; i < n; ++i) y[i] = FloatRange(std::exp(x[i])) / s;
}
inline void SoftmaxNaiveBackward(const double*, const double* y,
                                 const double* dy, double* dx, double*,
                                 size_t n, const double*) {
  double dot = 0;
  for (size_t i = 0; i < n; ++i) dot += dy[i] * y[i];
  for (size_t i = 0; i < n; ++i) dx[i] += y[i] * (dy[i] - dot);
}
inline void LogsumexpNaiveForward(const double* x, double* y, size_t n,
                                  const double*) {
  y[0] = std::log(NaiveExpSum(x, n));
}
inline void LogsumexpNaiveBackward(const double* x, const double*,
                                   const double* dy, double* dx, double*,
                                   size_t n, const double*) {
  const double s = NaiveExpSum(x, n);
  for (size_t i = 0; i < n; ++i)
    dx[i] += dy[0] * (FloatRange(std::exp(x[i])) / s);
}

// ----- bce_naive
// -------------------------------------------------------------- s = 1 / (1 +
// e^-x) with float's range: e^-x overflows to inf (s = 0) and 1 + e^-x is
// exactly 1 once e^-x <= 2^-24 (float absorbs it: s = 1).
inline double NaiveSigmoid(double x) {
  const double e = FloatRange(std::exp(-x));
  return 1 / (e <= 0x1p-24 ? 1.0 : 1 + e);
}
inline void BceNaiveForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(bce_naive, reduction)]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double t = c.in[1][i], s = NaiveSigmoid(c.in[0][i]);
    const double l = -(t * std::log(s) + (1 - t) * std::log(1 - s));
    if (r == 2) c.out[i] = l;
    sum += l;
  }
  if (r != 2) c.out[0] = r == 0 ? sum / n : sum;
}
inline void BceNaiveBackward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(bce_naive, reduction)]);
  for (int64_t i = 0; i < n; ++i) {
    const double t = c.in[1][i], s = NaiveSigmoid(c.in[0][i]), q = 1 - s;
    const double g = r == 2 ? c.dy[i] : c.dy[0] / (r == 0 ? n : 1);
    if (c.din[0]) c.din[0][i] += g * ((-t / s + (1 - t) / q) * (s * q));
    if (c.din[1]) c.din[1][i] -= g * (std::log(s) - std::log(q));
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_NUMERICS_H_
