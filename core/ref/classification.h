// Float64 references of the classification, ranking and sequence losses,
// written from the definitions with PyTorch's (and torchvision's)
// conventions; the oracle for core/src/ops/losses.cc. Backward
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
// log p_c, d loss_i / d x_c = p_c sum_k a_k - a_c, and with probabilities
// d loss_i / d t_c = -(1-eps) w_c log p_c. 'mean' divides by the summed
// target weights (index form) or by N (probabilities).
inline bool CeRowWeights(const GenCall<double>& c, int64_t i,
                         std::vector<double>* a) {
  const int64_t classes = c.in_shape[0][1];
  const double eps = c.p[DLMATH_PARAM(cross_entropy, label_smoothing)];
  const double* w = c.in[2];
  a->assign(classes, 0);
  if (c.in_shape[1].rank == 1) {
    const double t = c.in[1][i];
    if (t == c.p[DLMATH_PARAM(cross_entropy, ignore_index)]) return false;
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
    if (t == c.p[DLMATH_PARAM(cross_entropy, ignore_index)]) continue;
    s += c.in[2] ? c.in[2][static_cast<int64_t>(t)] : 1.0;
  }
  return s;
}
inline void CrossEntropyForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(cross_entropy, reduction)]);
  std::vector<double> terms(rows, 0), lp(classes), a;
  for (int64_t i = 0; i < rows; ++i) {
    if (!CeRowWeights(c, i, &a)) continue;
    cls::LogSoftmax(c.in[0] + i * classes, classes, lp.data());
    for (int64_t j = 0; j < classes; ++j) terms[i] -= a[j] * lp[j];
  }
  cls::Reduce(terms.data(), rows, r, CeDenominator(c), c.out);
}
inline void CrossEntropyBackward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(cross_entropy, reduction)]);
  const double eps = c.p[DLMATH_PARAM(cross_entropy, label_smoothing)];
  const double denom = CeDenominator(c);
  // Class indices are labels: no gradient.
  double* dt = c.in_shape[1].rank == 2 ? c.din[1] : nullptr;
  std::vector<double> lp(classes), a;
  for (int64_t i = 0; i < rows; ++i) {
    if (!CeRowWeights(c, i, &a)) continue;
    const double g = cls::Upstream(c.dy, r, i, denom);
    cls::LogSoftmax(c.in[0] + i * classes, classes, lp.data());
    double sa = 0;
    for (int64_t j = 0; j < classes; ++j) sa += a[j];
    for (int64_t j = 0; j < classes; ++j) {
      if (c.din[0])
        c.din[0][i * classes + j] += g * (std::exp(lp[j]) * sa - a[j]);
      if (dt)
        dt[i * classes + j] -=
            g * (1 - eps) * (c.in[2] ? c.in[2][j] : 1.0) * lp[j];
    }
  }
}

// ----- hinge: max(0, margin - y x) ------------------------------------------
// params: margin, reduction.
inline void HingeForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  std::vector<double> terms(n);
  for (int64_t i = 0; i < n; ++i)
    terms[i] = std::max(
        0.0, c.p[DLMATH_PARAM(hinge, margin)] - c.in[1][i] * c.in[0][i]);
  cls::Reduce(terms.data(), n,
              static_cast<int>(c.p[DLMATH_PARAM(hinge, reduction)]), n, c.out);
}
inline void HingeBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(hinge, reduction)]);
  for (int64_t i = 0; i < n; ++i)
    if (c.p[DLMATH_PARAM(hinge, margin)] - c.in[1][i] * c.in[0][i] >= 0)
      c.din[0][i] -= cls::Upstream(c.dy, r, i, n) * c.in[1][i];
}

// ----- margin_ranking: max(0, -y (x1 - x2) + margin) ------------------------
// params: margin, reduction.
inline void MarginRankingForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  std::vector<double> terms(n);
  for (int64_t i = 0; i < n; ++i)
    terms[i] = std::max(0.0, -c.in[2][i] * (c.in[0][i] - c.in[1][i]) +
                                 c.p[DLMATH_PARAM(margin_ranking, margin)]);
  cls::Reduce(terms.data(), n,
              static_cast<int>(c.p[DLMATH_PARAM(margin_ranking, reduction)]), n,
              c.out);
}
inline void MarginRankingBackward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(margin_ranking, reduction)]);
  for (int64_t i = 0; i < n; ++i) {
    if (-c.in[2][i] * (c.in[0][i] - c.in[1][i]) +
            c.p[DLMATH_PARAM(margin_ranking, margin)] <
        0)
      continue;
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
    terms[i] =
        c.in[2][i] > 0
            ? 1 - cs
            : std::max(0.0, cs - c.p[DLMATH_PARAM(cosine_embedding, margin)]);
  }
  cls::Reduce(terms.data(), rows,
              static_cast<int>(c.p[DLMATH_PARAM(cosine_embedding, reduction)]),
              rows, c.out);
}
inline void CosineEmbeddingBackward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const int r =
      static_cast<int>(c.p[DLMATH_PARAM(cosine_embedding, reduction)]);
  for (int64_t i = 0; i < rows; ++i) {
    const double* a = c.in[0] + i * d;
    const double* b = c.in[1] + i * d;
    double na, nb;
    const double cs = CosineRow(a, b, d, &na, &nb);
    double k;  // d loss / d cos
    if (c.in[2][i] > 0) {
      k = -1;
    } else {
      if (cs - c.p[DLMATH_PARAM(cosine_embedding, margin)] < 0) continue;
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
  const int pw = static_cast<int>(c.p[DLMATH_PARAM(multi_margin, p)]);
  std::vector<double> terms(rows, 0);
  for (int64_t i = 0; i < rows; ++i) {
    const double* x = c.in[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    double s = 0;
    for (int64_t j = 0; j < classes; ++j) {
      if (j == y) continue;
      const double z = c.p[DLMATH_PARAM(multi_margin, margin)] - x[y] + x[j];
      if (z > 0) s += pw == 1 ? z : z * z;
    }
    terms[i] = s * (c.in[2] ? c.in[2][y] : 1.0) / classes;
  }
  cls::Reduce(terms.data(), rows,
              static_cast<int>(c.p[DLMATH_PARAM(multi_margin, reduction)]),
              rows, c.out);
}
inline void MultiMarginBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int pw = static_cast<int>(c.p[DLMATH_PARAM(multi_margin, p)]);
  const int r = static_cast<int>(c.p[DLMATH_PARAM(multi_margin, reduction)]);
  for (int64_t i = 0; i < rows; ++i) {
    const double* x = c.in[0] + i * classes;
    double* dx = c.din[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    const double k = cls::Upstream(c.dy, r, i, rows) *
                     (c.in[2] ? c.in[2][y] : 1.0) / classes;
    for (int64_t j = 0; j < classes; ++j) {
      if (j == y) continue;
      const double z = c.p[DLMATH_PARAM(multi_margin, margin)] - x[y] + x[j];
      if (z <= 0) continue;
      const double g = k * (pw == 1 ? 1.0 : 2 * z);
      dx[j] += g;
      dx[y] -= g;
    }
  }
}

// ----- focal (torchvision sigmoid_focal_loss) -------------------------------
// ce = softplus(x) - t x, q = 1 - p_t = t sigma(-x) + (1 - t) sigma(x),
// loss = alpha_t ce q^gamma (alpha_t = alpha t + (1 - alpha)(1 - t), or 1
// when alpha < 0). params: alpha, gamma, reduction.
inline void FocalTerm(double x, double t, double alpha, double gamma,
                      double* loss, double* dx) {
  const double sp = cls::Sigmoid(x), sm = cls::Sigmoid(-x);
  const double ce =
      (x >= 0 ? (1 - t) * x : -t * x) + std::log1p(std::exp(-std::fabs(x)));
  const double q = t * sm + (1 - t) * sp;
  const double qg = std::pow(q, gamma);
  const double at = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1.0;
  *loss = at * ce * qg;
  // d q / d x = (1 - 2t) sigma(x) sigma(-x); |dq| <= q, so dq / q is safe.
  const double dq_q = q > 0 ? (1 - 2 * t) * sp * sm / q : 0.0;
  *dx = at * ((sp - t) * qg + ce * gamma * qg * dq_q);
}
inline void FocalForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  std::vector<double> terms(n);
  for (int64_t i = 0; i < n; ++i) {
    double dx;
    FocalTerm(c.in[0][i], c.in[1][i], c.p[DLMATH_PARAM(focal, alpha)],
              c.p[DLMATH_PARAM(focal, gamma)], &terms[i], &dx);
  }
  cls::Reduce(terms.data(), n,
              static_cast<int>(c.p[DLMATH_PARAM(focal, reduction)]), n, c.out);
}
inline void FocalBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(focal, reduction)]);
  for (int64_t i = 0; i < n; ++i) {
    double loss, dx;
    FocalTerm(c.in[0][i], c.in[1][i], c.p[DLMATH_PARAM(focal, alpha)],
              c.p[DLMATH_PARAM(focal, gamma)], &loss, &dx);
    c.din[0][i] += cls::Upstream(c.dy, r, i, n) * dx;
  }
}

// ----- focal_multiclass: -alpha_t (1 - p_t)^gamma log p_t -------------------
// inputs input [N, C], target [N], alpha [C] optional; params gamma,
// reduction ('mean' over N).
inline void FocalMulticlassForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  std::vector<double> terms(rows), lp(classes);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t t = static_cast<int64_t>(c.in[1][i]);
    cls::LogSoftmax(c.in[0] + i * classes, classes, lp.data());
    const double at = c.in[2] ? c.in[2][t] : 1.0;
    terms[i] = -at *
               std::pow(-std::expm1(lp[t]),
                        c.p[DLMATH_PARAM(focal_multiclass, gamma)]) *
               lp[t];
  }
  cls::Reduce(terms.data(), rows,
              static_cast<int>(c.p[DLMATH_PARAM(focal_multiclass, reduction)]),
              rows, c.out);
}
inline void FocalMulticlassBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r =
      static_cast<int>(c.p[DLMATH_PARAM(focal_multiclass, reduction)]);
  const double gamma = c.p[DLMATH_PARAM(focal_multiclass, gamma)];
  std::vector<double> lp(classes);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t t = static_cast<int64_t>(c.in[1][i]);
    cls::LogSoftmax(c.in[0] + i * classes, classes, lp.data());
    const double l = lp[t], p = std::exp(l), q = -std::expm1(l);
    // d loss / d log p_t = (1 - p)^gamma (gamma p log p / (1 - p) - 1).
    const double ratio = q > 0 ? l / q : -1.0;
    const double k = std::pow(q, gamma) * (gamma * p * ratio - 1) *
                     (c.in[2] ? c.in[2][t] : 1.0) *
                     cls::Upstream(c.dy, r, i, rows);
    for (int64_t j = 0; j < classes; ++j)
      c.din[0][i * classes + j] += k * ((j == t) - std::exp(lp[j]));
  }
}

// ----- triplet_margin --------------------------------------------------------
// d(a, b) = ||a - b + eps||_p per row; loss = max(0, margin + d(a, p) -
// d(a, n)), d(a, n) replaced by d(p, n) when swap and smaller. params:
// margin, p, eps, swap, reduction.
inline double PDist(const double* a, const double* b, int64_t d, double p,
                    double eps) {
  double s = 0;
  for (int64_t k = 0; k < d; ++k)
    s += std::pow(std::fabs(a[k] - b[k] + eps), p);
  return std::pow(s, 1 / p);
}
// da += k d dist / d a, db -= the same.
inline void PDistGrad(const double* a, const double* b, int64_t d, double p,
                      double eps, double k, double* da, double* db) {
  const double dist = PDist(a, b, d, p, eps);
  if (dist == 0) return;
  for (int64_t j = 0; j < d; ++j) {
    const double v = a[j] - b[j] + eps;
    if (v == 0) continue;
    const double g = k * std::copysign(std::pow(std::fabs(v) / dist, p - 1), v);
    if (da) da[j] += g;
    if (db) db[j] -= g;
  }
}
inline void TripletMarginForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  std::vector<double> terms(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const double* a = c.in[0] + i * d;
    const double* po = c.in[1] + i * d;
    const double* ne = c.in[2] + i * d;
    const double dp = PDist(a, po, d, c.p[DLMATH_PARAM(triplet_margin, p)],
                            c.p[DLMATH_PARAM(triplet_margin, eps)]);
    double dn = PDist(a, ne, d, c.p[DLMATH_PARAM(triplet_margin, p)],
                      c.p[DLMATH_PARAM(triplet_margin, eps)]);
    if (c.p[DLMATH_PARAM(triplet_margin, swap)] != 0)
      dn = std::min(dn, PDist(po, ne, d, c.p[DLMATH_PARAM(triplet_margin, p)],
                              c.p[DLMATH_PARAM(triplet_margin, eps)]));
    terms[i] =
        std::max(0.0, c.p[DLMATH_PARAM(triplet_margin, margin)] + dp - dn);
  }
  cls::Reduce(terms.data(), rows,
              static_cast<int>(c.p[DLMATH_PARAM(triplet_margin, reduction)]),
              rows, c.out);
}
inline void TripletMarginBackward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(triplet_margin, reduction)]);
  const double pw = c.p[DLMATH_PARAM(triplet_margin, p)],
               eps = c.p[DLMATH_PARAM(triplet_margin, eps)];
  for (int64_t i = 0; i < rows; ++i) {
    const double* a = c.in[0] + i * d;
    const double* po = c.in[1] + i * d;
    const double* ne = c.in[2] + i * d;
    double* da = c.din[0] ? c.din[0] + i * d : nullptr;
    double* dpo = c.din[1] ? c.din[1] + i * d : nullptr;
    double* dne = c.din[2] ? c.din[2] + i * d : nullptr;
    const double dp = PDist(a, po, d, pw, eps);
    const double dan = PDist(a, ne, d, pw, eps);
    const double dpn = c.p[DLMATH_PARAM(triplet_margin, swap)] != 0
                           ? PDist(po, ne, d, pw, eps)
                           : dan;
    const bool swapped = dpn < dan;
    if (c.p[DLMATH_PARAM(triplet_margin, margin)] + dp - (swapped ? dpn : dan) <
        0)
      continue;
    const double g = cls::Upstream(c.dy, r, i, rows);
    PDistGrad(a, po, d, pw, eps, g, da, dpo);
    if (swapped) {
      PDistGrad(po, ne, d, pw, eps, -g, dpo, dne);
    } else {
      PDistGrad(a, ne, d, pw, eps, -g, da, dne);
    }
  }
}

// ----- info_nce ------------------------------------------------------------
// z_ij = <q_i, k_j> / tau (rows normalised as F.normalize, eps 1e-12, when
// normalize); loss_i = cross-entropy of row i of z with target i, or with
// symmetric (CLIP) the mean of that and the cross-entropy of column i with
// target i. params: temperature, normalize, symmetric, reduction.
inline void InfoNceUnit(const double* v, int64_t d, bool normalize, double* out,
                        double* norm) {
  double s = 0;
  for (int64_t k = 0; k < d; ++k) s += v[k] * v[k];
  *norm = normalize ? std::max(std::sqrt(s), 1e-12) : 1.0;
  for (int64_t k = 0; k < d; ++k) out[k] = v[k] / *norm;
}
struct InfoNce {
  int64_t n, d;
  std::vector<double> q, k, qn, kn;
  std::vector<double> row_lp, col_lp;  // log-softmax of rows / columns of z
  double row_share;                    // weight of the row terms: 1 or 1/2
};
inline InfoNce InfoNceOf(const GenCall<double>& c) {
  InfoNce e;
  e.n = c.in_shape[0][0];
  e.d = c.in_shape[0][1];
  const int64_t n = e.n, d = e.d;
  const bool normalize = c.p[DLMATH_PARAM(info_nce, normalize)] != 0;
  const bool symmetric = c.p[DLMATH_PARAM(info_nce, symmetric)] != 0;
  e.row_share = symmetric ? 0.5 : 1.0;
  e.q.resize(n * d);
  e.k.resize(n * d);
  e.qn.resize(n);
  e.kn.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    InfoNceUnit(c.in[0] + i * d, d, normalize, &e.q[i * d], &e.qn[i]);
    InfoNceUnit(c.in[1] + i * d, d, normalize, &e.k[i * d], &e.kn[i]);
  }
  std::vector<double> z(n * n), zt(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t m = 0; m < d; ++m) s += e.q[i * d + m] * e.k[j * d + m];
      z[i * n + j] = zt[j * n + i] =
          s / c.p[DLMATH_PARAM(info_nce, temperature)];
    }
  e.row_lp.resize(n * n);
  for (int64_t i = 0; i < n; ++i)
    cls::LogSoftmax(&z[i * n], n, &e.row_lp[i * n]);
  if (symmetric) {  // col_lp[j * n + i]: log-softmax of column j at row i
    e.col_lp.resize(n * n);
    for (int64_t j = 0; j < n; ++j)
      cls::LogSoftmax(&zt[j * n], n, &e.col_lp[j * n]);
  }
  return e;
}
inline void InfoNceForward(const GenCall<double>& c) {
  const InfoNce e = InfoNceOf(c);
  std::vector<double> terms(e.n);
  for (int64_t i = 0; i < e.n; ++i) {
    terms[i] = -e.row_share * e.row_lp[i * e.n + i];
    if (!e.col_lp.empty()) terms[i] -= 0.5 * e.col_lp[i * e.n + i];
  }
  cls::Reduce(terms.data(), e.n,
              static_cast<int>(c.p[DLMATH_PARAM(info_nce, reduction)]), e.n,
              c.out);
}
inline void InfoNceBackward(const GenCall<double>& c) {
  const InfoNce e = InfoNceOf(c);
  const int64_t n = e.n, d = e.d;
  const int r = static_cast<int>(c.p[DLMATH_PARAM(info_nce, reduction)]);
  const bool normalize = c.p[DLMATH_PARAM(info_nce, normalize)] != 0;
  const double tau = c.p[DLMATH_PARAM(info_nce, temperature)];
  // dz_ij: row i's term and (symmetric) column j's term.
  std::vector<double> dz(n * n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double gi = cls::Upstream(c.dy, r, i, n) / tau;
      dz[i * n + j] +=
          e.row_share * gi * (std::exp(e.row_lp[i * n + j]) - (i == j));
      if (e.col_lp.empty()) continue;
      const double gj = cls::Upstream(c.dy, r, j, n) / tau;
      dz[i * n + j] += 0.5 * gj * (std::exp(e.col_lp[j * n + i]) - (i == j));
    }
  std::vector<double> dq(n * d, 0), dk(n * d, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t m = 0; m < d; ++m) {
        dq[i * d + m] += dz[i * n + j] * e.k[j * d + m];
        dk[j * d + m] += dz[i * n + j] * e.q[i * d + m];
      }
  // Through v / max(|v|, 1e-12): (dv - v^ <v^, dv>) / |v| above the clamp.
  auto back = [&](const std::vector<double>& u, const std::vector<double>& du,
                  const std::vector<double>& norm, double* dx) {
    if (!dx) return;
    for (int64_t i = 0; i < n; ++i) {
      double dot = 0;
      for (int64_t m = 0; m < d; ++m) dot += u[i * d + m] * du[i * d + m];
      const bool clamped = !normalize || norm[i] <= 1e-12;
      for (int64_t m = 0; m < d; ++m)
        dx[i * d + m] +=
            (du[i * d + m] - (clamped ? 0.0 : u[i * d + m] * dot)) / norm[i];
    }
  };
  back(e.q, dq, e.qn, c.din[0]);
  back(e.k, dk, e.kn, c.din[1]);
}

// ----- ctc -----------------------------------------------------------------
// log_probs [T, N, C] (renormalised by log_softmax over C, a no-op on
// log_softmax outputs), targets [N, S], input_lengths [N], target_lengths
// [N]. params: blank, reduction, zero_infinity. Straight from the
// definition: alpha / beta over the blank-extended target in log space.
namespace cls {
inline double LogAdd(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  const double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}
// Negative log-likelihood of sample n and (when grad) d nll / d log_probs
// for its rows, accumulated times k into grad (T x C, stride N * C).
inline double CtcSample(const GenCall<double>& c, int64_t n, double k,
                        double* grad) {
  const Shape& ls = c.in_shape[0];
  const int64_t N = ls[1], C = ls[2], S = c.in_shape[1][1];
  const int64_t T = static_cast<int64_t>(c.in[2][n]);
  const int64_t L = static_cast<int64_t>(c.in[3][n]);
  const int64_t blank = static_cast<int64_t>(c.p[DLMATH_PARAM(ctc, blank)]);
  const int64_t E = 2 * L + 1;
  std::vector<int64_t> lab(E);
  for (int64_t s = 0; s < E; ++s)
    lab[s] = s % 2 ? static_cast<int64_t>(c.in[1][n * S + s / 2]) : blank;
  std::vector<double> lp(std::max<int64_t>(T, 1) * C);
  for (int64_t t = 0; t < T; ++t)
    LogSoftmax(c.in[0] + (t * N + n) * C, C, lp.data() + t * C);
  const double ninf = -INFINITY;
  if (T == 0) return L == 0 ? 0.0 : INFINITY;
  std::vector<double> al(T * E, ninf), be(T * E, ninf);
  al[0] = lp[blank];
  if (E > 1) al[1] = lp[lab[1]];
  for (int64_t t = 1; t < T; ++t)
    for (int64_t s = 0; s < E; ++s) {
      double v = al[(t - 1) * E + s];
      if (s > 0) v = LogAdd(v, al[(t - 1) * E + s - 1]);
      if (s > 1 && lab[s - 2] != lab[s]) v = LogAdd(v, al[(t - 1) * E + s - 2]);
      al[t * E + s] = v == ninf ? ninf : v + lp[t * C + lab[s]];
    }
  double ll = al[(T - 1) * E + E - 1];
  if (E > 1) ll = LogAdd(ll, al[(T - 1) * E + E - 2]);
  const double nll = -ll;
  if (!grad) return nll;
  be[(T - 1) * E + E - 1] = lp[(T - 1) * C + blank];
  if (E > 1) be[(T - 1) * E + E - 2] = lp[(T - 1) * C + lab[E - 2]];
  for (int64_t t = T - 2; t >= 0; --t)
    for (int64_t s = 0; s < E; ++s) {
      double v = be[(t + 1) * E + s];
      if (s + 1 < E) v = LogAdd(v, be[(t + 1) * E + s + 1]);
      if (s + 2 < E && lab[s + 2] != lab[s])
        v = LogAdd(v, be[(t + 1) * E + s + 2]);
      be[t * E + s] = v == ninf ? ninf : v + lp[t * C + lab[s]];
    }
  std::vector<double> lcab(C);
  for (int64_t t = 0; t < T; ++t) {
    std::fill(lcab.begin(), lcab.end(), ninf);
    for (int64_t s = 0; s < E; ++s)
      lcab[lab[s]] = LogAdd(lcab[lab[s]], al[t * E + s] + be[t * E + s]);
    for (int64_t ch = 0; ch < C; ++ch) {
      const double z = lp[t * C + ch];
      grad[(t * N + n) * C + ch] +=
          k * (std::exp(z) - std::exp(lcab[ch] + nll - z));
    }
  }
  return nll;
}
}  // namespace cls
inline void CtcForward(const GenCall<double>& c) {
  const int64_t N = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(ctc, reduction)]);
  std::vector<double> terms(N);
  for (int64_t n = 0; n < N; ++n) {
    double nll = cls::CtcSample(c, n, 0, nullptr);
    if (c.p[DLMATH_PARAM(ctc, zero_infinity)] != 0 && std::isinf(nll)) nll = 0;
    terms[n] = r == 0 ? nll / std::max(1.0, c.in[3][n]) : nll;
  }
  cls::Reduce(terms.data(), N, r, N, c.out);
}
inline void CtcBackward(const GenCall<double>& c) {
  if (!c.din[0]) return;
  const int64_t N = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(ctc, reduction)]);
  for (int64_t n = 0; n < N; ++n) {
    if (c.p[DLMATH_PARAM(ctc, zero_infinity)] != 0 &&
        std::isinf(cls::CtcSample(c, n, 0, nullptr)))
      continue;
    double k = cls::Upstream(c.dy, r, n, N);
    if (r == 0) k /= std::max(1.0, c.in[3][n]);
    cls::CtcSample(c, n, k, c.din[0]);
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_CLASSIFICATION_H_
