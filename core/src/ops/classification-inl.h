// Classification and ranking loss kernels (Highway): the data-parallel parts
// of the General-form ops in classification.cc. Legend: N rows (samples), C
// classes, D features, n elements. Backward helpers ACCUMULATE (+=) into
// their gradients; the caller zeroes them once per step.
#if defined(DLMATH_OPS_CLASSIFICATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_CLASSIFICATION_INL_H_
#undef DLMATH_OPS_CLASSIFICATION_INL_H_
#else
#define DLMATH_OPS_CLASSIFICATION_INL_H_
#endif

#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// Largest entry of a row of C floats, from -inf. A NaN may or may not win;
// it poisons the sum of exps anyway.
HWY_NOINLINE float ClsRowMax(const float* x, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto kNegInf = hn::Set(d, -INFINITY);
  auto m0 = kNegInf, m1 = kNegInf;
  size_t i = 0;
  for (; i + 2 * N <= cols; i += 2 * N) {
    m0 = hn::Max(m0, hn::LoadU(d, x + i));
    m1 = hn::Max(m1, hn::LoadU(d, x + i + N));
  }
  for (; i + N <= cols; i += N) m0 = hn::Max(m0, hn::LoadU(d, x + i));
  if (i < cols) {
    const size_t r = cols - i;
    m1 = hn::Max(m1,
                 hn::IfThenElse(hn::FirstN(d, r), LoadN(d, x + i, r), kNegInf));
  }
  return hn::GetLane(hn::MaxOfLanes(d, hn::Max(m0, m1)));
}

// sum_c e^(x_c - m), m the row max (so every argument is <= 0). Four float
// accumulators per block of 64 vectors, block totals in double.
HWY_NOINLINE double ClsRowExpSum(const float* x, size_t cols, float m) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, m);
  double total = 0;
  for (size_t start = 0; start < cols; start += 64 * N) {
    const size_t end = cols - start < 64 * N ? cols : start + 64 * N;
    auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
    size_t i = start;
    for (; i + 4 * N <= end; i += 4 * N) {
      s0 = hn::Add(s0, ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i), vm)));
      s1 = hn::Add(s1, ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i + N), vm)));
      s2 = hn::Add(s2,
                   ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i + 2 * N), vm)));
      s3 = hn::Add(s3,
                   ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i + 3 * N), vm)));
    }
    for (; i + N <= end; i += N)
      s0 = hn::Add(s0, ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i), vm)));
    if (i < end) {
      const size_t r = end - i;
      s1 = hn::Add(s1, hn::IfThenElseZero(
                           hn::FirstN(d, r),
                           ExpNonPositive(d, hn::Sub(LoadN(d, x + i, r), vm))));
    }
    total += hn::GetLane(
        hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  }
  return total;
}

// sum_c k_c (m - x_c) with k_c = w_c t_c (w or t null: ones), and *ksum =
// sum_c k_c, in one pass: the parts of -sum_c a_c log p_c = A log S + sum_c
// a_c (m - x_c) that need the row. The terms are >= 0 for non-negative
// weights (no cancellation). Float lanes per block, block totals in double.
HWY_NOINLINE double ClsRowWeightedGap(const float* x, const float* w,
                                      const float* t, size_t cols, float m,
                                      double* ksum) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, m);
  const auto one = hn::Set(d, 1.0f);
  double total = 0, ktotal = 0;
  for (size_t start = 0; start < cols; start += 64 * N) {
    const size_t end = cols - start < 64 * N ? cols : start + 64 * N;
    auto s0 = hn::Zero(d), k0 = s0;
    for (size_t i = start; i < end; i += N) {
      const size_t r = end - i < N ? end - i : N;
      const bool full = r == N;
      const auto gap =
          hn::Sub(vm, full ? hn::LoadU(d, x + i) : LoadN(d, x + i, r));
      auto k = one;
      if (w) k = full ? hn::LoadU(d, w + i) : LoadN(d, w + i, r);
      if (t) k = hn::Mul(k, full ? hn::LoadU(d, t + i) : LoadN(d, t + i, r));
      if (!full) k = hn::IfThenElseZero(hn::FirstN(d, r), k);
      s0 = hn::MulAdd(k, gap, s0);
      k0 = hn::Add(k0, k);
    }
    total += hn::GetLane(hn::SumOfLanes(d, s0));
    ktotal += hn::GetLane(hn::SumOfLanes(d, k0));
  }
  *ksum = ktotal;
  return total;
}

// dx_c += ga e^((x_c - m) - lse) - (s + r t_c) w_c: the fused softmax +
// cross-entropy gradient p_c A g - a_c g of one row (w, t null: ones,
// zeros). The argument of the exp is <= 0.
HWY_NOINLINE void ClsRowSoftmaxGrad(const float* x, const float* w,
                                    const float* t, float m, float lse,
                                    float ga, float s, float r, float* dx,
                                    size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, m), vl = hn::Set(d, lse), vg = hn::Set(d, ga);
  const auto vs = hn::Set(d, s), vr = hn::Set(d, r);
  for (size_t i = 0; i < cols; i += N) {
    const size_t n = cols - i < N ? cols - i : N;
    const bool full = n == N;
    const auto xv = full ? hn::LoadU(d, x + i) : LoadN(d, x + i, n);
    const auto p = ExpNonPositive(d, hn::Sub(hn::Sub(xv, vm), vl));
    auto a = vs;
    if (t)
      a = hn::MulAdd(vr, full ? hn::LoadU(d, t + i) : LoadN(d, t + i, n), a);
    if (w) a = hn::Mul(a, full ? hn::LoadU(d, w + i) : LoadN(d, w + i, n));
    const auto gv = hn::MulSub(vg, p, a);
    if (full) {
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i), gv), d, dx + i);
    } else {
      StoreN(hn::Add(LoadN(d, dx + i, n), gv), d, dx + i, n);
    }
  }
}

// terms_i = max(0, margin - y_i (a_i - b_i)) (b null: 0), stored when terms
// is not null; returns their sum (SumLosses). hinge and margin_ranking.
HWY_NOINLINE double MarginTerms(const float* a, const float* b, const float* y,
                                float margin, float* terms, size_t n) {
  const hn::ScalableTag<float> d;
  const auto vm = hn::Set(d, margin);
  return SumLosses(d, n, terms, [&](size_t i, size_t r) {
    auto diff = LoadUpTo(d, a + i, r);
    if (b) diff = hn::Sub(diff, LoadUpTo(d, b + i, r));
    return hn::Max(hn::NegMulAdd(LoadUpTo(d, y + i, r), diff, vm), hn::Zero(d));
  });
}

// Where margin - y_i (a_i - b_i) >= 0 (PyTorch's clamp_min passes the
// gradient at the kink): da_i -= k g_i y_i, db_i += k g_i y_i, g_i = g[i]
// (g_stride 1) or g[0] (0). da or db may be null; b null means 0.
HWY_NOINLINE void MarginGrad(const float* a, const float* b, const float* y,
                             float margin, const float* g, size_t g_stride,
                             float k, float* da, float* db, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, margin);
  const auto vk = hn::Set(d, k);
  const auto zero = hn::Zero(d);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    const bool full = r == N;
    auto diff = full ? hn::LoadU(d, a + i) : LoadN(d, a + i, r);
    if (b)
      diff = hn::Sub(diff, full ? hn::LoadU(d, b + i) : LoadN(d, b + i, r));
    const auto yv = full ? hn::LoadU(d, y + i) : LoadN(d, y + i, r);
    const auto gi = !g_stride ? hn::Set(d, g[0])
                    : full    ? hn::LoadU(d, g + i)
                              : LoadN(d, g + i, r);
    const auto active = hn::Ge(hn::NegMulAdd(yv, diff, vm), zero);
    const auto t = hn::IfThenElseZero(active, hn::Mul(hn::Mul(vk, gi), yv));
    if (full) {
      if (da) hn::StoreU(hn::Sub(hn::LoadU(d, da + i), t), d, da + i);
      if (db) hn::StoreU(hn::Add(hn::LoadU(d, db + i), t), d, db + i);
    } else {
      if (da) StoreN(hn::Sub(LoadN(d, da + i, r), t), d, da + i, r);
      if (db) StoreN(hn::Add(LoadN(d, db + i, r), t), d, db + i, r);
    }
  }
}

// <a, b>, <a, a>, <b, b> of two rows of D floats in one pass, float lanes
// per block of 64 vectors, block totals in double.
HWY_NOINLINE void ClsDot3(const float* a, const float* b, size_t cols,
                          double* ab, double* aa, double* bb) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  double tab = 0, taa = 0, tbb = 0;
  for (size_t start = 0; start < cols; start += 64 * N) {
    const size_t end = cols - start < 64 * N ? cols : start + 64 * N;
    auto sab = hn::Zero(d), saa = sab, sbb = sab;
    for (size_t i = start; i < end; i += N) {
      const size_t r = end - i < N ? end - i : N;
      const auto av = r == N ? hn::LoadU(d, a + i) : LoadN(d, a + i, r);
      const auto bv = r == N ? hn::LoadU(d, b + i) : LoadN(d, b + i, r);
      sab = hn::MulAdd(av, bv, sab);  // padded lanes are 0
      saa = hn::MulAdd(av, av, saa);
      sbb = hn::MulAdd(bv, bv, sbb);
    }
    tab += hn::GetLane(hn::SumOfLanes(d, sab));
    taa += hn::GetLane(hn::SumOfLanes(d, saa));
    tbb += hn::GetLane(hn::SumOfLanes(d, sbb));
  }
  *ab = tab;
  *aa = taa;
  *bb = tbb;
}

// dx += ka a + kb b over a row of D floats.
HWY_NOINLINE void ClsAxpy2(const float* a, float ka, const float* b, float kb,
                           float* dx, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto va = hn::Set(d, ka), vb = hn::Set(d, kb);
  for (size_t i = 0; i < cols; i += N) {
    const size_t r = cols - i < N ? cols - i : N;
    if (r == N) {
      const auto v =
          hn::MulAdd(va, hn::LoadU(d, a + i), hn::Mul(vb, hn::LoadU(d, b + i)));
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i), v), d, dx + i);
    } else {
      const auto v =
          hn::MulAdd(va, LoadN(d, a + i, r), hn::Mul(vb, LoadN(d, b + i, r)));
      StoreN(hn::Add(LoadN(d, dx + i, r), v), d, dx + i, r);
    }
  }
}

// ---------------------------------------------------------------------------
// focal (torchvision's sigmoid_focal_loss), lane by lane: ce = softplus(x) -
// t x from e = e^{-|x|} (ce = (1 - t) x or -t x, plus log1p(e): no
// cancellation, finite for any finite x), q = 1 - p_t = t sigma(-x) + (1 -
// t) sigma(x), loss = alpha_t ce q^gamma (alpha_t = 1 when alpha < 0), and
// *grad = alpha_t ((sigma(x) - t) q^gamma + gamma ce q^gamma dq/q) with dq/q
// = (1 - 2t) sigma(x) sigma(-x) / q, which lies in [-1, 1] for t in [0, 1].
// q^gamma: exact products for gamma 0, 1, 2, else e^{gamma log q} (a few
// ulp). Error ~ 4e-7 relative.
template <class D, class V>
HWY_INLINE V FocalCore(D d, V x, V t, float alpha, float gamma, V* grad) {
  const V one = hn::Set(d, 1.0f), zero = hn::Zero(d);
  const V e = ExpNonPositive(d, hn::Neg(hn::Abs(x)));
  const V s_hi = hn::Div(one, hn::Add(one, e));  // sigma(|x|)
  const V s_lo = hn::Mul(e, s_hi);               // sigma(-|x|)
  const auto pos = hn::Ge(x, zero);
  const V sp = hn::IfThenElse(pos, s_hi, s_lo);  // sigma(x)
  const V sm = hn::IfThenElse(pos, s_lo, s_hi);  // sigma(-x)
  const V omt = hn::Sub(one, t);
  const V ce =
      hn::MulAdd(hn::IfThenElse(pos, omt, hn::Neg(t)), x, Log1pUnit(d, e));
  const V q = hn::MulAdd(t, sm, hn::Mul(omt, sp));
  V qg;
  if (gamma == 0) {
    qg = one;
  } else if (gamma == 1) {
    qg = q;
  } else if (gamma == 2) {
    qg = hn::Mul(q, q);
  } else {
    const auto qpos = hn::Gt(q, zero);
    const V lq = hn::Log(d, hn::IfThenElse(qpos, q, one));
    qg = hn::IfThenElseZero(qpos, hn::Exp(d, hn::Mul(hn::Set(d, gamma), lq)));
  }
  const V at = alpha >= 0 ? hn::MulAdd(hn::Set(d, alpha), t,
                                       hn::Mul(hn::Set(d, 1 - alpha), omt))
                          : one;
  if (grad) {
    const auto qpos = hn::Gt(q, zero);
    const V dq =
        hn::Mul(hn::NegMulAdd(hn::Set(d, 2.0f), t, one), hn::Mul(sp, sm));
    const V dq_q =
        hn::IfThenElseZero(qpos, hn::Div(dq, hn::IfThenElse(qpos, q, one)));
    const V inner =
        hn::MulAdd(hn::Mul(hn::Set(d, gamma), ce), dq_q, hn::Sub(sp, t));
    *grad = hn::Mul(at, hn::Mul(inner, qg));
  }
  return hn::Mul(at, hn::Mul(ce, qg));
}

// Sum of the focal terms over n (SumLosses); the terms themselves go to
// `terms` when not null.
HWY_NOINLINE double FocalTerms(const float* x, const float* t, float alpha,
                               float gamma, float* terms, size_t n) {
  const hn::ScalableTag<float> d;
  return SumLosses(d, n, terms, [&](size_t i, size_t r) {
    return FocalCore(d, LoadUpTo(d, x + i, r), LoadUpTo(d, t + i, r), alpha,
                     gamma, static_cast<hn::Vec<decltype(d)>*>(nullptr));
  });
}

// dx_i += k g_i d focal_i / d x_i, g_i = g[i] (g_stride 1) or g[0] (0).
HWY_NOINLINE void FocalGrad(const float* x, const float* t, float alpha,
                            float gamma, const float* g, size_t g_stride,
                            float k, float* dx, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    const bool full = r == N;
    const auto xv = full ? hn::LoadU(d, x + i) : LoadN(d, x + i, r);
    const auto tv = full ? hn::LoadU(d, t + i) : LoadN(d, t + i, r);
    const auto gi = !g_stride ? hn::Set(d, g[0])
                    : full    ? hn::LoadU(d, g + i)
                              : LoadN(d, g + i, r);
    hn::Vec<decltype(d)> gr;
    FocalCore(d, xv, tv, alpha, gamma, &gr);
    const auto v = hn::Mul(hn::Mul(vk, gi), gr);
    if (full) {
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i), v), d, dx + i);
    } else {
      StoreN(hn::Add(LoadN(d, dx + i, r), v), d, dx + i, r);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_CLASSIFICATION_INL_H_
