// Distance kernels (Highway): one pair of D-vectors at a time, looped over
// the pairs a distance op asks for. Legend: x1 [N, D], x2 [M, D]; `pairs`
// 0 = row i against row i (N == M, y [N]), 1 = every row of x1 against every
// row of x2 (y [N, M], row-major). Backward ACCUMULATES (+=) into dx1 / dx2
// (either may be null); the caller zeroes them once.
//
// Reductions run four vectors per step into independent float accumulators,
// in blocks of 1024 elements whose totals are added in double: relative
// error ~1e-7 of the sum of |terms| for any D. Tails go through LoadN/StoreN
// and are masked wherever f(0, 0) != 0 (pairwise_distance's +eps).
#if defined(DLMATH_OPS_DISTANCES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_DISTANCES_INL_H_
#undef DLMATH_OPS_DISTANCES_INL_H_
#else
#define DLMATH_OPS_DISTANCES_INL_H_
#endif

#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// The per-pair formula a kernel call computes.
enum DistanceKind {
  kDistDot = 0,     // sum a b
  kDistEuclid = 1,  // sqrt(sum (a - b)^2)
  kDistL1 = 2,      // sum |a - b|
  kDistPNorm = 3,   // (sum |a - b + eps|^p)^(1/p)
};

// sum_i f(d, a_i, b_i) over n, f returning a vector of terms.
template <class F>
HWY_INLINE double PairSum(const float* a, const float* b, size_t n,
                          const F& f) {
  const hn::ScalableTag<float> d;
  return BlockSum(d, n, [&](size_t i, size_t r) {
    return f(d, LoadUpTo(d, a + i, r), LoadUpTo(d, b + i, r));
  });
}

// max_i |a_i - b_i + eps|.
HWY_INLINE float PairAbsMax(const float* a, const float* b, size_t n,
                            float eps) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto ve = hn::Set(d, eps);
  auto m = hn::Zero(d);
  size_t i = 0;
  for (; i + N <= n; i += N)
    m = hn::Max(m, hn::Abs(hn::Add(
                       hn::Sub(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), ve)));
  if (i < n) {
    const size_t r = n - i;
    const auto u =
        hn::Abs(hn::Add(hn::Sub(LoadN(d, a + i, r), LoadN(d, b + i, r)), ve));
    m = hn::Max(m, hn::IfThenElseZero(hn::FirstN(d, r), u));
  }
  return hn::GetLane(hn::MaxOfLanes(d, m));
}

// ||a - b + eps||_p for p > 0. p = 1 and p = 2 are plain sums; any other p
// first divides by the largest |u| so every term (|u| / max)^p lies in
// [0, 1] (no overflow or underflow of the power), then e^(p log v).
HWY_INLINE float PairPNorm(const float* a, const float* b, size_t n, float eps,
                           double p) {
  if (p == 2 || p == 1) {
    const double s = PairSum(a, b, n, [eps, p](auto d, auto va, auto vb) {
      const auto u = hn::Add(hn::Sub(va, vb), hn::Set(d, eps));
      return p == 2 ? hn::Mul(u, u) : hn::Abs(u);
    });
    return static_cast<float>(p == 2 ? std::sqrt(s) : s);
  }
  const float m = PairAbsMax(a, b, n, eps);
  if (!(m > 0) || std::isinf(m)) return m;  // all zero, inf or NaN
  const float inv_m = 1.0f / m, pf = static_cast<float>(p);
  const double s = PairSum(a, b, n, [eps, inv_m, pf](auto d, auto va, auto vb) {
    const auto v = hn::Mul(hn::Abs(hn::Add(hn::Sub(va, vb), hn::Set(d, eps))),
                           hn::Set(d, inv_m));
    const auto e = hn::Exp(d, hn::Mul(hn::Set(d, pf), hn::Log(d, v)));
    return ZeroIf(d, hn::Eq(v, hn::Zero(d)), e);
  });
  return static_cast<float>(m * std::pow(s, 1.0 / p));
}

HWY_INLINE float PairDistance(const float* a, const float* b, size_t n,
                              int kind, double p, float eps) {
  switch (kind) {
    case kDistDot:
      return static_cast<float>(PairSum(
          a, b, n, [](auto, auto va, auto vb) { return hn::Mul(va, vb); }));
    case kDistEuclid:
      return static_cast<float>(
          std::sqrt(PairSum(a, b, n, [](auto, auto va, auto vb) {
            const auto e = hn::Sub(va, vb);
            return hn::Mul(e, e);
          })));
    case kDistL1:
      return static_cast<float>(PairSum(a, b, n, [](auto, auto va, auto vb) {
        return hn::Abs(hn::Sub(va, vb));
      }));
    default:
      return PairPNorm(a, b, n, eps, p);
  }
}

// da += t(a_i, b_i) and db -= t(a_i, b_i) over n (t: the gradient of the
// pair's term in a; it is antisymmetric in a and b); da, db may be null.
template <class T>
HWY_INLINE void PairAccumulate(const float* a, const float* b, float* da,
                               float* db, size_t n, const T& t) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = t(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i));
    if (da) hn::StoreU(hn::Add(hn::LoadU(d, da + i), v), d, da + i);
    if (db) hn::StoreU(hn::Sub(hn::LoadU(d, db + i), v), d, db + i);
  }
  if (i < n) {
    const size_t r = n - i;
    const auto v = t(d, LoadN(d, a + i, r), LoadN(d, b + i, r));
    if (da) StoreN(hn::Add(LoadN(d, da + i, r), v), d, da + i, r);
    if (db) StoreN(hn::Sub(LoadN(d, db + i, r), v), d, db + i, r);
  }
}

// dst += alpha x + beta y over n.
HWY_INLINE void Axpby(const float* x, const float* y, float alpha, float beta,
                      float* dst, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto va = hn::Set(d, alpha), vb = hn::Set(d, beta);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v =
        hn::MulAdd(va, hn::LoadU(d, x + i), hn::Mul(vb, hn::LoadU(d, y + i)));
    hn::StoreU(hn::Add(hn::LoadU(d, dst + i), v), d, dst + i);
  }
  if (i < n) {
    const size_t r = n - i;
    const auto v =
        hn::MulAdd(va, LoadN(d, x + i, r), hn::Mul(vb, LoadN(d, y + i, r)));
    StoreN(hn::Add(LoadN(d, dst + i, r), v), d, dst + i, r);
  }
}

// Gradient of one pair's distance y (upstream g) into da, db.
HWY_INLINE void PairDistanceBackward(const float* a, const float* b, float y,
                                     float g, float* da, float* db, size_t n,
                                     int kind, double p, float eps) {
  switch (kind) {
    case kDistDot:
      if (da) Axpby(b, b, g, 0.0f, da, n);
      if (db) Axpby(a, a, g, 0.0f, db, n);
      return;
    case kDistEuclid: {
      if (y == 0) return;  // the subgradient 0 at equal rows (torch.cdist)
      const float k = g / y;
      PairAccumulate(a, b, da, db, n, [k](auto d, auto va, auto vb) {
        return hn::Mul(hn::Set(d, k), hn::Sub(va, vb));
      });
      return;
    }
    case kDistL1:  // g sign(a - b), sign(0) = 0
      PairAccumulate(a, b, da, db, n, [g](auto d, auto va, auto vb) {
        const auto e = hn::Sub(va, vb);
        return ZeroIf(
            d, hn::Eq(e, hn::Zero(d)),
            hn::Mul(hn::Set(d, g), hn::CopySign(hn::Set(d, 1.0f), e)));
      });
      return;
    default: {
      // g sign(u) (|u| / y)^(p - 1), 0 where u = 0 or y = 0 (PyTorch's
      // norm backward).
      if (y == 0 || std::isinf(y)) return;
      if (p == 2) {
        const float k = g / y;
        PairAccumulate(a, b, da, db, n, [k, eps](auto d, auto va, auto vb) {
          return hn::Mul(hn::Set(d, k),
                         hn::Add(hn::Sub(va, vb), hn::Set(d, eps)));
        });
        return;
      }
      if (p == 1) {
        PairAccumulate(a, b, da, db, n, [g, eps](auto d, auto va, auto vb) {
          const auto u = hn::Add(hn::Sub(va, vb), hn::Set(d, eps));
          return ZeroIf(
              d, hn::Eq(u, hn::Zero(d)),
              hn::Mul(hn::Set(d, g), hn::CopySign(hn::Set(d, 1.0f), u)));
        });
        return;
      }
      // (|u| / y)^(p-1) = (m / y)^(p-1) (|u| / m)^(p-1), m = max |u|: the
      // scalar factor in double, and log(|u| / m) stays small for the
      // typical element, where log(|u| / y) would be large for all of them
      // (the error of e^(a log v) grows with |a log v|).
      const float m = PairAbsMax(a, b, n, eps);
      const float k = static_cast<float>(g * std::pow(double{m} / y, p - 1));
      const float inv_m = 1.0f / m, pm1 = static_cast<float>(p - 1);
      PairAccumulate(
          a, b, da, db, n, [k, eps, inv_m, pm1](auto d, auto va, auto vb) {
            const auto u = hn::Add(hn::Sub(va, vb), hn::Set(d, eps));
            const auto v = hn::Mul(hn::Abs(u), hn::Set(d, inv_m));
            const auto w = hn::Exp(d, hn::Mul(hn::Set(d, pm1), hn::Log(d, v)));
            const auto sk =
                hn::Mul(hn::Set(d, k), hn::CopySign(hn::Set(d, 1.0f), u));
            return ZeroIf(d, hn::Eq(u, hn::Zero(d)), hn::Mul(sk, w));
          });
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// dot, euclidean, manhattan, pairwise_distance (and mahalanobis on whitened
// rows): y[k] for every pair k (see the legend). p, eps: pairwise_distance.

HWY_NOINLINE void DistanceForward(const float* x1, const float* x2, float* y,
                                  size_t n, size_t m, size_t dim, int pairs,
                                  int kind, double p, float eps) {
  if (!pairs) {
    for (size_t i = 0; i < n; ++i)
      y[i] = PairDistance(x1 + i * dim, x2 + i * dim, dim, kind, p, eps);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j)
      y[i * m + j] =
          PairDistance(x1 + i * dim, x2 + j * dim, dim, kind, p, eps);
}

HWY_NOINLINE void DistanceBackward(const float* x1, const float* x2,
                                   const float* y, const float* dy, float* dx1,
                                   float* dx2, size_t n, size_t m, size_t dim,
                                   int pairs, int kind, double p, float eps) {
  for (size_t i = 0; i < n; ++i) {
    const size_t jn = pairs ? m : 1;
    for (size_t jj = 0; jj < jn; ++jj) {
      const size_t j = pairs ? jj : i, k = pairs ? i * m + j : i;
      PairDistanceBackward(x1 + i * dim, x2 + j * dim, y[k], dy[k],
                           dx1 ? dx1 + i * dim : nullptr,
                           dx2 ? dx2 + j * dim : nullptr, dim, kind, p, eps);
    }
  }
}

// ---------------------------------------------------------------------------
// cosine_similarity, row against row: y_i = x1_i . x2_i / (c1 c2), c =
// max(||x||, eps) (PyTorch clamps each norm). The three sums are in double
// blocks (PairSum): error ~2 ulp of y. Backward:
// dx1 += g (x2 / (c1 c2) - y x1 / (c1 n1)) and the same with 1 and 2
// swapped; the clamp passes the gradient through (PyTorch clamps under
// no_grad), and a zero row gets no norm term.

HWY_NOINLINE void CosineRowForward(const float* x1, const float* x2, float* y,
                                   size_t n, size_t dim, double eps) {
  const auto dot = [](auto, auto va, auto vb) { return hn::Mul(va, vb); };
  for (size_t i = 0; i < n; ++i) {
    const float* a = x1 + i * dim;
    const float* b = x2 + i * dim;
    const double n1 = std::sqrt(PairSum(a, a, dim, dot));
    const double n2 = std::sqrt(PairSum(b, b, dim, dot));
    y[i] = static_cast<float>(PairSum(a, b, dim, dot) /
                              ((n1 < eps ? eps : n1) * (n2 < eps ? eps : n2)));
  }
}

HWY_NOINLINE void CosineRowBackward(const float* x1, const float* x2,
                                    const float* y, const float* dy, float* dx1,
                                    float* dx2, size_t n, size_t dim,
                                    double eps) {
  const auto dot = [](auto, auto va, auto vb) { return hn::Mul(va, vb); };
  for (size_t i = 0; i < n; ++i) {
    const float* a = x1 + i * dim;
    const float* b = x2 + i * dim;
    const double n1 = std::sqrt(PairSum(a, a, dim, dot));
    const double n2 = std::sqrt(PairSum(b, b, dim, dot));
    const double c1 = n1 < eps ? eps : n1, c2 = n2 < eps ? eps : n2;
    const double g = dy[i], gy = g * y[i];
    const float alpha = static_cast<float>(g / (c1 * c2));
    if (dx1)
      Axpby(b, a, alpha, n1 > 0 ? static_cast<float>(-gy / (c1 * n1)) : 0.0f,
            dx1 + i * dim, dim);
    if (dx2)
      Axpby(a, b, alpha, n2 > 0 ? static_cast<float>(-gy / (c2 * n2)) : 0.0f,
            dx2 + i * dim, dim);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_DISTANCES_INL_H_
