// Float64 references of the regularization ops, written from the
// definitions; the oracle for core/src/ops/regularization.cc. Backward
// functions accumulate like the kernels.
#ifndef DLMATH_REF_REGULARIZATION_H_
#define DLMATH_REF_REGULARIZATION_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/ref/activations.h"  // RreluUniform, the counter-based RNG
#include "dlmath/registry.h"

namespace dlmath::ref {

// l1_penalty: in = {input}, params lam.
inline void L1PenaltyForward(const GenCall<double>& c) {
  double s = 0;
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i)
    s += std::fabs(c.in[0][i]);
  c.out[0] = c.p[DLMATH_PARAM(l1_penalty, lam)] * s;
}
inline void L1PenaltyBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i) {
    const double x = c.in[0][i];
    c.din[0][i] += c.p[DLMATH_PARAM(l1_penalty, lam)] * c.dy[0] *
                   (x > 0   ? 1.0
                    : x < 0 ? -1.0
                            : 0.0);
  }
}

// l2_penalty: in = {input}, params lam.
inline void L2PenaltyForward(const GenCall<double>& c) {
  double s = 0;
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i)
    s += c.in[0][i] * c.in[0][i];
  c.out[0] = c.p[DLMATH_PARAM(l2_penalty, lam)] * s;
}
inline void L2PenaltyBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i)
    c.din[0][i] +=
        2 * c.p[DLMATH_PARAM(l2_penalty, lam)] * c.dy[0] * c.in[0][i];
}

// dropout: in = {input, mask?}, params p, training, seed, aux = {mask}.
// Element i is kept when its uniform u(seed, i) in [0, 1) is >= p.
inline double DropoutKeep(const GenCall<double>& c, int64_t i) {
  if (c.p[DLMATH_PARAM(dropout, training)] == 0) return 1;
  if (c.in[1]) return c.in[1][i];
  return RreluUniform(static_cast<uint32_t>(c.p[DLMATH_PARAM(dropout, seed)]),
                      i) >= c.p[DLMATH_PARAM(dropout, p)]
             ? 1
             : 0;
}
inline void DropoutForward(const GenCall<double>& c) {
  const double scale = c.p[DLMATH_PARAM(dropout, training)] != 0
                           ? 1 / (1 - c.p[DLMATH_PARAM(dropout, p)])
                           : 1;
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i) {
    const double m = DropoutKeep(c, i);
    c.aux[0][i] = m;
    c.out[i] = c.in[0][i] * m * scale;
  }
}
inline void DropoutBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const double scale = c.p[DLMATH_PARAM(dropout, training)] != 0
                           ? 1 / (1 - c.p[DLMATH_PARAM(dropout, p)])
                           : 1;
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i)
    c.din[0][i] += c.dy[i] * DropoutKeep(c, i) * scale;
}

// label_smoothing: in = {target}, params num_classes, epsilon.
inline void LabelSmoothingForward(const GenCall<double>& c) {
  const int64_t k =
      static_cast<int64_t>(c.p[DLMATH_PARAM(label_smoothing, num_classes)]);
  for (int64_t i = 0; i < c.in_shape[0][0]; ++i)
    for (int64_t j = 0; j < k; ++j)
      c.out[i * k + j] = (j == static_cast<int64_t>(c.in[0][i])
                              ? 1 - c.p[DLMATH_PARAM(label_smoothing, epsilon)]
                              : 0) +
                         c.p[DLMATH_PARAM(label_smoothing, epsilon)] / k;
}

// spectral_norm: in = {weight [out, in], v [in]?}, params
// n_power_iterations, eps, seed; aux = {sigma, iterations, u, v}. PyTorch's
// power iteration (parametrizations.spectral_norm, training mode) from v0 =
// the given v or 2 u(seed, j) - 1, normalised: u = normalize(W v), then
// v = normalize(W^T u); sigma = u^T W v.
inline double SpectralSigma(const GenCall<double>& c, std::vector<double>* u,
                            std::vector<double>* v) {
  const int64_t rows = c.in_shape[0][0], cols = c.in_shape[0][1];
  const double* w = c.in[0];
  const double eps = c.p[DLMATH_PARAM(spectral_norm, eps)];
  const auto seed =
      static_cast<uint32_t>(c.p[DLMATH_PARAM(spectral_norm, seed)]);
  const int iters =
      static_cast<int>(c.p[DLMATH_PARAM(spectral_norm, n_power_iterations)]);
  auto normalize = [eps](std::vector<double>* z) {
    double s = 0;
    for (double e : *z) s += e * e;
    const double d = std::max(std::sqrt(s), eps);
    for (double& e : *z) e /= d;
  };
  u->assign(rows, 0);
  v->assign(cols, 0);
  for (int64_t j = 0; j < cols; ++j)
    (*v)[j] = c.in[1] ? c.in[1][j] : 2 * RreluUniform(seed, j) - 1;
  normalize(v);
  for (int it = 0; it < iters; ++it) {
    for (int64_t i = 0; i < rows; ++i) {
      double s = 0;
      for (int64_t j = 0; j < cols; ++j) s += w[i * cols + j] * (*v)[j];
      (*u)[i] = s;
    }
    normalize(u);
    for (int64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (int64_t i = 0; i < rows; ++i) s += w[i * cols + j] * (*u)[i];
      (*v)[j] = s;
    }
    normalize(v);
  }
  double sigma = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      sigma += (*u)[i] * w[i * cols + j] * (*v)[j];
  return sigma;
}
inline void SpectralNormForward(const GenCall<double>& c) {
  std::vector<double> u, v;
  const double sigma = SpectralSigma(c, &u, &v);
  for (int64_t i = 0; i < c.in_shape[0].numel(); ++i)
    c.out[i] = c.in[0][i] / sigma;
  c.aux[0][0] = sigma;
  c.aux[1][0] = c.p[DLMATH_PARAM(spectral_norm, n_power_iterations)];
  std::copy(u.begin(), u.end(), c.aux[2]);
  std::copy(v.begin(), v.end(), c.aux[3]);
}
// u and v held constant (PyTorch): d sigma / dW = u v^T.
inline void SpectralNormBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  std::vector<double> u, v;
  const double sigma = SpectralSigma(c, &u, &v);
  const int64_t rows = c.in_shape[0][0], cols = c.in_shape[0][1];
  double t = 0;
  for (int64_t i = 0; i < rows * cols; ++i) t += c.dy[i] * c.in[0][i];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c.din[0][i * cols + j] +=
          c.dy[i * cols + j] / sigma - t / (sigma * sigma) * u[i] * v[j];
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_REGULARIZATION_H_
