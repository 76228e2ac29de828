// Float64 references of the classification, ranking and sequence losses,
// written from the definitions with PyTorch's (and torchvision's)
// conventions; the oracle for core/src/ops/classification.cc. Backward
// functions accumulate like the kernels. reduction: 0 mean, 1 sum, 2 none.
#ifndef DLMATH_REF_CLASSIFICATION_H_
#define DLMATH_REF_CLASSIFICATION_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

namespace cls {

// Upstream gradient of element i of a loss whose per-element terms are
// reduced by r over `count` terms ('mean' divides by denom).
inline double Upstream(const double* dy, int r, int64_t i, double denom) {
  if (r == 2) return dy[i];
  return r == 0 ? dy[0] / denom : dy[0];
}
inline void Reduce(const double* terms, int64_t n, int r, double denom,
                   double* out) {
  if (r == 2) {
    for (int64_t i = 0; i < n; ++i) out[i] = terms[i];
    return;
  }
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += terms[i];
  out[0] = r == 0 ? s / denom : s;
}

// log_softmax of one row into lp.
inline void LogSoftmax(const double* x, int64_t n, double* lp) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t c = 0; c < n; ++c) m = std::max(m, x[c]);
  double s = 0;
  for (int64_t c = 0; c < n; ++c) s += std::exp(x[c] - m);
  const double ls = std::log(s);
  for (int64_t c = 0; c < n; ++c) lp[c] = x[c] - m - ls;
}

inline double Sigmoid(double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}

}  // namespace cls

// ----- cross_entropy ---------------------------------------------------------
// Each counted row i gets target weights a_c (index form: (1-eps) w_t [c=t] +
// eps/C w_c; probabilities: w_c ((1-eps) t_c + eps/C)); loss_i = -sum_c a_c
// log p_c, d loss_i / d x_c = p_c sum_k a_k - a_c. 'mean' divides by the
// summed target weights (index form) or by N (probabilities).
inline bool CeRowWeights(const GenCall<double>& c, int64_t i,
                         std::vector<double>* a) {
  const int64_t classes = c.in_shape[0][1];
  const double eps = c.p[2];
  const double* w = c.in[2];
  a->assign(classes, 0);
  if (c.in_shape[1].rank == 1) {
    const double t = c.in[1][i];
    if (t == c.p[1]) return false;
    const int64_t k = static_cast<int64_t>(t);
    for (int64_t j = 0; j < classes; ++j)
      (*a)[j] = eps / classes * (w ? w[j] : 1.0);
    (*a)[k] += (1 - eps) * (w ? w[k] : 1.0);
    return true;
  }
  for (int64_t j = 0; j < classes; ++j)
    (*a)[j] = (w ? w[j] : 1.0) *
              ((1 - eps) * c.in[1][i * classes + j] + eps / classes);
  return true;
}
inline double CeDenominator(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0];
  if (c.in_shape[1].rank == 2) return static_cast<double>(rows);
  double s = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const double t = c.in[1][i];
    if (t == c.p[1]) continue;
    s += c.in[2] ? c.in[2][static_cast<int64_t>(t)] : 1.0;
  }
  return s;
}
inline void CrossEntropyForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[0]);
  std::vector<double> terms(rows, 0), lp(classes), a;
  for (int64_t i = 0; i < rows; ++i) {
    if (!CeRowWeights(c, i, &a)) continue;
    cls::LogSoftmax(c.in[0] + i * classes, classes, lp.data());
    for (int64_t j = 0; j < classes; ++j) terms[i] -= a[j] * lp[j];
  }
  cls::Reduce(terms.data(), rows, r, CeDenominator(c), c.out);
}
inline void CrossEntropyBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[0]);
  const double denom = CeDenominator(c);
  std::vector<double> lp(classes), a;
  for (int64_t i = 0; i < rows; ++i) {
    if (!CeRowWeights(c, i, &a)) continue;
    const double g = cls::Upstream(c.dy, r, i, denom);
    cls::LogSoftmax(c.in[0] + i * classes, classes, lp.data());
    double sa = 0;
    for (int64_t j = 0; j < classes; ++j) sa += a[j];
    for (int64_t j = 0; j < classes; ++j)
      c.din[0][i * classes + j] += g * (std::exp(lp[j]) * sa - a[j]);
  }
}

// ----- hinge: max(0, margin - y x) ------------------------------------------
// params: margin, reduction.
inline void HingeForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  std::vector<double> terms(n);
  for (int64_t i = 0; i < n; ++i)
    terms[i] = std::max(0.0, c.p[0] - c.in[1][i] * c.in[0][i]);
  cls::Reduce(terms.data(), n, static_cast<int>(c.p[1]), n, c.out);
}
inline void HingeBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[1]);
  for (int64_t i = 0; i < n; ++i)
    if (c.p[0] - c.in[1][i] * c.in[0][i] >= 0)
      c.din[0][i] -= cls::Upstream(c.dy, r, i, n) * c.in[1][i];
}

// ----- margin_ranking: max(0, -y (x1 - x2) + margin) ------------------------
// params: margin, reduction.
inline void MarginRankingForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  std::vector<double> terms(n);
  for (int64_t i = 0; i < n; ++i)
    terms[i] = std::max(0.0, -c.in[2][i] * (c.in[0][i] - c.in[1][i]) + c.p[0]);
  cls::Reduce(terms.data(), n, static_cast<int>(c.p[1]), n, c.out);
}
inline void MarginRankingBackward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[1]);
  for (int64_t i = 0; i < n; ++i) {
    if (-c.in[2][i] * (c.in[0][i] - c.in[1][i]) + c.p[0] < 0) continue;
    const double g = cls::Upstream(c.dy, r, i, n) * c.in[2][i];
    if (c.din[0]) c.din[0][i] -= g;
    if (c.din[1]) c.din[1][i] += g;
  }
}

// ----- cosine_embedding ------------------------------------------------------
// cos = <a, b> / sqrt((|a|^2 + 1e-12)(|b|^2 + 1e-12)); y = 1: 1 - cos,
// y = -1: max(0, cos - margin). params: margin, reduction.
inline double CosineRow(const double* a, const double* b, int64_t d, double* na,
                        double* nb) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t k = 0; k < d; ++k) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  *na = aa + 1e-12;
  *nb = bb + 1e-12;
  return ab / std::sqrt(*na * *nb);
}
inline void CosineEmbeddingForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  std::vector<double> terms(rows);
  for (int64_t i = 0; i < rows; ++i) {
    double na, nb;
    const double cs = CosineRow(c.in[0] + i * d, c.in[1] + i * d, d, &na, &nb);
    terms[i] = c.in[2][i] > 0 ? 1 - cs : std::max(0.0, cs - c.p[0]);
  }
  cls::Reduce(terms.data(), rows, static_cast<int>(c.p[1]), rows, c.out);
}
inline void CosineEmbeddingBackward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[1]);
  for (int64_t i = 0; i < rows; ++i) {
    const double* a = c.in[0] + i * d;
    const double* b = c.in[1] + i * d;
    double na, nb;
    const double cs = CosineRow(a, b, d, &na, &nb);
    double k;  // d loss / d cos
    if (c.in[2][i] > 0) {
      k = -1;
    } else {
      if (cs - c.p[0] < 0) continue;
      k = 1;
    }
    k *= cls::Upstream(c.dy, r, i, rows);
    const double inv = 1 / std::sqrt(na * nb);
    for (int64_t j = 0; j < d; ++j) {
      if (c.din[0]) c.din[0][i * d + j] += k * (b[j] * inv - cs * a[j] / na);
      if (c.din[1]) c.din[1][i * d + j] += k * (a[j] * inv - cs * b[j] / nb);
    }
  }
}

// ----- multi_margin ----------------------------------------------------------
// loss_i = w_y / C sum_{c != y} max(0, margin - x_y + x_c)^p.
// params: p, margin, reduction.
inline void MultiMarginForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int pw = static_cast<int>(c.p[0]);
  std::vector<double> terms(rows, 0);
  for (int64_t i = 0; i < rows; ++i) {
    const double* x = c.in[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    double s = 0;
    for (int64_t j = 0; j < classes; ++j) {
      if (j == y) continue;
      const double z = c.p[1] - x[y] + x[j];
      if (z > 0) s += pw == 1 ? z : z * z;
    }
    terms[i] = s * (c.in[2] ? c.in[2][y] : 1.0) / classes;
  }
  cls::Reduce(terms.data(), rows, static_cast<int>(c.p[2]), rows, c.out);
}
inline void MultiMarginBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int pw = static_cast<int>(c.p[0]);
  const int r = static_cast<int>(c.p[2]);
  for (int64_t i = 0; i < rows; ++i) {
    const double* x = c.in[0] + i * classes;
    double* dx = c.din[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    const double k = cls::Upstream(c.dy, r, i, rows) *
                     (c.in[2] ? c.in[2][y] : 1.0) / classes;
    for (int64_t j = 0; j < classes; ++j) {
      if (j == y) continue;
      const double z = c.p[1] - x[y] + x[j];
      if (z <= 0) continue;
      const double g = k * (pw == 1 ? 1.0 : 2 * z);
      dx[j] += g;
      dx[y] -= g;
    }
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_CLASSIFICATION_H_
