// Float64 references of the distances and similarities, written from the
// definitions with PyTorch's conventions; the oracle for
// core/src/ops/distances.cc. Backward functions accumulate like the kernels.
// The pair rule: x1 [N, D], x2 [M, D]; N == M and all_pairs off -> row i
// against row i, y [N]; otherwise all pairs, y [N, M].
#ifndef DLMATH_REF_DISTANCES_H_
#define DLMATH_REF_DISTANCES_H_

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

// The all_pairs param of the row of op kOp.
template <OpId kOp>
bool AllPairsOf(const double* p) {
  return p[DLMATH_PARAM_OF(kOp, all_pairs)] != 0;
}

namespace distances {

// Calls f(k, a, b) for every pair: k the output index, a and b the rows.
template <class F>
void ForPairs(const GenCall<double>& c, bool all_pairs, const double* x1,
              const double* x2, const F& f) {
  const int64_t n = c.in_shape[0][0], m = c.in_shape[1][0],
                d = c.in_shape[0][1];
  const bool pairs = all_pairs || n != m;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = pairs ? 0 : i; j < (pairs ? m : i + 1); ++j)
      f(pairs ? i * m + j : i, i, j, x1 + i * d, x2 + j * d, d);
}

inline double Sign(double v) { return (v > 0) - (v < 0); }

// Inverse of the symmetric positive definite a [d, d] by Gauss-Jordan
// elimination with partial pivoting.
inline std::vector<double> Inverse(const double* a, int64_t d) {
  std::vector<double> m(a, a + d * d), inv(d * d, 0);
  for (int64_t i = 0; i < d; ++i) inv[i * d + i] = 1;
  for (int64_t col = 0; col < d; ++col) {
    int64_t piv = col;
    for (int64_t r = col + 1; r < d; ++r)
      if (std::fabs(m[r * d + col]) > std::fabs(m[piv * d + col])) piv = r;
    for (int64_t k = 0; k < d; ++k) {
      std::swap(m[col * d + k], m[piv * d + k]);
      std::swap(inv[col * d + k], inv[piv * d + k]);
    }
    const double p = m[col * d + col];
    for (int64_t k = 0; k < d; ++k) {
      m[col * d + k] /= p;
      inv[col * d + k] /= p;
    }
    for (int64_t r = 0; r < d; ++r) {
      if (r == col) continue;
      const double f = m[r * d + col];
      for (int64_t k = 0; k < d; ++k) {
        m[r * d + k] -= f * m[col * d + k];
        inv[r * d + k] -= f * inv[col * d + k];
      }
    }
  }
  return inv;
}

// S^-1 (x1 - x2) for one pair (identity S when absent) into z.
inline void MahalanobisSolve(const std::vector<double>& sinv, const double* a,
                             const double* b, int64_t d, double* z) {
  for (int64_t r = 0; r < d; ++r) {
    z[r] = 0;
    for (int64_t k = 0; k < d; ++k)
      z[r] += (sinv.empty() ? (r == k) : sinv[r * d + k]) * (a[k] - b[k]);
  }
}

}  // namespace distances

// dot: y = x1 . x2.
inline void DotForward(const GenCall<double>& c) {
  distances::ForPairs(c, AllPairsOf<OpId::dot>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t, int64_t, const double* a,
                          const double* b, int64_t d) {
                        double s = 0;
                        for (int64_t t = 0; t < d; ++t) s += a[t] * b[t];
                        c.out[k] = s;
                      });
}
inline void DotBackward(const GenCall<double>& c) {
  distances::ForPairs(c, AllPairsOf<OpId::dot>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t i, int64_t j, const double* a,
                          const double* b, int64_t d) {
                        for (int64_t t = 0; t < d; ++t) {
                          if (c.din[0]) c.din[0][i * d + t] += c.dy[k] * b[t];
                          if (c.din[1]) c.din[1][j * d + t] += c.dy[k] * a[t];
                        }
                      });
}

// cosine_similarity: y = x1 . x2 / (max(||x1||, eps) max(||x2||, eps)); the
// clamp is a constant for the gradient (PyTorch clamps under no_grad).
inline void CosineSimilarityForward(const GenCall<double>& c) {
  const double eps = c.p[DLMATH_PARAM(cosine_similarity, eps)];
  distances::ForPairs(
      c, AllPairsOf<OpId::cosine_similarity>(c.p), c.in[0], c.in[1],
      [&](int64_t k, int64_t, int64_t, const double* a, const double* b,
          int64_t d) {
        double ab = 0, aa = 0, bb = 0;
        for (int64_t t = 0; t < d; ++t) {
          ab += a[t] * b[t];
          aa += a[t] * a[t];
          bb += b[t] * b[t];
        }
        const double n1 = std::sqrt(aa), n2 = std::sqrt(bb);
        c.out[k] = ab / ((n1 < eps ? eps : n1) * (n2 < eps ? eps : n2));
      });
}
inline void CosineSimilarityBackward(const GenCall<double>& c) {
  const double eps = c.p[DLMATH_PARAM(cosine_similarity, eps)];
  distances::ForPairs(
      c, AllPairsOf<OpId::cosine_similarity>(c.p), c.in[0], c.in[1],
      [&](int64_t k, int64_t i, int64_t j, const double* a, const double* b,
          int64_t d) {
        double ab = 0, aa = 0, bb = 0;
        for (int64_t t = 0; t < d; ++t) {
          ab += a[t] * b[t];
          aa += a[t] * a[t];
          bb += b[t] * b[t];
        }
        const double n1 = std::sqrt(aa), n2 = std::sqrt(bb);
        const double c1 = n1 < eps ? eps : n1, c2 = n2 < eps ? eps : n2;
        const double y = ab / (c1 * c2), g = c.dy[k];
        for (int64_t t = 0; t < d; ++t) {
          if (c.din[0])
            c.din[0][i * d + t] +=
                g * (b[t] / (c1 * c2) - (n1 > 0 ? y * a[t] / (c1 * n1) : 0));
          if (c.din[1])
            c.din[1][j * d + t] +=
                g * (a[t] / (c1 * c2) - (n2 > 0 ? y * b[t] / (c2 * n2) : 0));
        }
      });
}

// euclidean: y = ||x1 - x2||_2; gradient 0 at y = 0.
inline void EuclideanForward(const GenCall<double>& c) {
  distances::ForPairs(c, AllPairsOf<OpId::euclidean>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t, int64_t, const double* a,
                          const double* b, int64_t d) {
                        double s = 0;
                        for (int64_t t = 0; t < d; ++t)
                          s += (a[t] - b[t]) * (a[t] - b[t]);
                        c.out[k] = std::sqrt(s);
                      });
}
inline void EuclideanBackward(const GenCall<double>& c) {
  distances::ForPairs(c, AllPairsOf<OpId::euclidean>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t i, int64_t j, const double* a,
                          const double* b, int64_t d) {
                        double s = 0;
                        for (int64_t t = 0; t < d; ++t)
                          s += (a[t] - b[t]) * (a[t] - b[t]);
                        const double y = std::sqrt(s);
                        if (y == 0) return;
                        for (int64_t t = 0; t < d; ++t) {
                          const double v = c.dy[k] * (a[t] - b[t]) / y;
                          if (c.din[0]) c.din[0][i * d + t] += v;
                          if (c.din[1]) c.din[1][j * d + t] -= v;
                        }
                      });
}

// manhattan: y = sum |x1 - x2|; sign(0) = 0.
inline void ManhattanForward(const GenCall<double>& c) {
  distances::ForPairs(c, AllPairsOf<OpId::manhattan>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t, int64_t, const double* a,
                          const double* b, int64_t d) {
                        double s = 0;
                        for (int64_t t = 0; t < d; ++t)
                          s += std::fabs(a[t] - b[t]);
                        c.out[k] = s;
                      });
}
inline void ManhattanBackward(const GenCall<double>& c) {
  distances::ForPairs(c, AllPairsOf<OpId::manhattan>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t i, int64_t j, const double* a,
                          const double* b, int64_t d) {
                        for (int64_t t = 0; t < d; ++t) {
                          const double v =
                              c.dy[k] * distances::Sign(a[t] - b[t]);
                          if (c.din[0]) c.din[0][i * d + t] += v;
                          if (c.din[1]) c.din[1][j * d + t] -= v;
                        }
                      });
}

// mahalanobis: y = sqrt(e^T S^-1 e), e = x1 - x2 (S = I when absent);
// dx1 = g S^-1 e / y (S symmetric), dx2 = -dx1; 0 at y = 0.
inline void MahalanobisForward(const GenCall<double>& c) {
  const int64_t d = c.in_shape[0][1];
  const std::vector<double> sinv =
      c.in[2] ? distances::Inverse(c.in[2], d) : std::vector<double>();
  std::vector<double> z(d);
  distances::ForPairs(c, AllPairsOf<OpId::mahalanobis>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t, int64_t, const double* a,
                          const double* b, int64_t) {
                        distances::MahalanobisSolve(sinv, a, b, d, z.data());
                        double q = 0;
                        for (int64_t t = 0; t < d; ++t)
                          q += (a[t] - b[t]) * z[t];
                        c.out[k] = std::sqrt(q);
                      });
}
inline void MahalanobisBackward(const GenCall<double>& c) {
  const int64_t d = c.in_shape[0][1];
  const std::vector<double> sinv =
      c.in[2] ? distances::Inverse(c.in[2], d) : std::vector<double>();
  std::vector<double> z(d);
  distances::ForPairs(c, AllPairsOf<OpId::mahalanobis>(c.p), c.in[0], c.in[1],
                      [&](int64_t k, int64_t i, int64_t j, const double* a,
                          const double* b, int64_t) {
                        distances::MahalanobisSolve(sinv, a, b, d, z.data());
                        double q = 0;
                        for (int64_t t = 0; t < d; ++t)
                          q += (a[t] - b[t]) * z[t];
                        const double y = std::sqrt(q);
                        if (y == 0) return;
                        for (int64_t t = 0; t < d; ++t) {
                          const double v = c.dy[k] * z[t] / y;
                          if (c.din[0]) c.din[0][i * d + t] += v;
                          if (c.din[1]) c.din[1][j * d + t] -= v;
                        }
                      });
}

// pairwise_distance: y = (sum |u|^p)^(1/p), u = x1 - x2 + eps; params p, eps,
// keepdim, all_pairs. dy/du = sign(u) |u|^(p-1) / y^(p-1), 0 where u = 0 or
// y = 0.
inline void PairwiseDistanceForward(const GenCall<double>& c) {
  const double p = c.p[DLMATH_PARAM(pairwise_distance, p)],
               eps = c.p[DLMATH_PARAM(pairwise_distance, eps)];
  distances::ForPairs(c, AllPairsOf<OpId::pairwise_distance>(c.p), c.in[0],
                      c.in[1],
                      [&](int64_t k, int64_t, int64_t, const double* a,
                          const double* b, int64_t d) {
                        double s = 0;
                        for (int64_t t = 0; t < d; ++t)
                          s += std::pow(std::fabs(a[t] - b[t] + eps), p);
                        c.out[k] = std::pow(s, 1 / p);
                      });
}
inline void PairwiseDistanceBackward(const GenCall<double>& c) {
  const double p = c.p[DLMATH_PARAM(pairwise_distance, p)],
               eps = c.p[DLMATH_PARAM(pairwise_distance, eps)];
  distances::ForPairs(c, AllPairsOf<OpId::pairwise_distance>(c.p), c.in[0],
                      c.in[1],
                      [&](int64_t k, int64_t i, int64_t j, const double* a,
                          const double* b, int64_t d) {
                        double s = 0;
                        for (int64_t t = 0; t < d; ++t)
                          s += std::pow(std::fabs(a[t] - b[t] + eps), p);
                        const double y = std::pow(s, 1 / p);
                        if (y == 0) return;
                        for (int64_t t = 0; t < d; ++t) {
                          const double u = a[t] - b[t] + eps;
                          if (u == 0) continue;
                          const double v = c.dy[k] * distances::Sign(u) *
                                           std::pow(std::fabs(u) / y, p - 1);
                          if (c.din[0]) c.din[0][i * d + t] += v;
                          if (c.din[1]) c.din[1][j * d + t] -= v;
                        }
                      });
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_DISTANCES_H_
