// Loss kernels (Highway): the data-parallel parts of the losses, which the
// General-form ops in losses.cc call through dispatch. Legend: n elements.
// Backward helpers ACCUMULATE (+=) into their gradients; the caller zeroes
// them once per step.
#if defined(DLMATH_OPS_LOSSES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_LOSSES_INL_H_
#undef DLMATH_OPS_LOSSES_INL_H_
#else
#define DLMATH_OPS_LOSSES_INL_H_
#endif

#include <cmath>
#include <limits>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// Remainders without a stack copy. A loop over whole vectors that leaves r =
// n - i < N elements takes, when n >= N, the whole vector ending at n: its
// first N - r lanes are done already. LoadN/StoreN copy through memcpy (a
// memory.copy call in wasm), which cost more than the rest of a batch's
// 10-float loss together.
// Lanes [s, N) of a 128-bit v moved down to [0, N - s), zeros above, for
// 0 < s < N: one constant shift per s. (HWY_SCALAR has no lane shifts: its
// one lane never leaves a remainder.)
#if HWY_TARGET != HWY_SCALAR
template <int kShift = 1, class D, class V>
HWY_INLINE V ShiftDownLanes(D d, V v, size_t s) {
  if constexpr (kShift + 1 >= static_cast<int>(hn::MaxLanes(d))) {
    return hn::ShiftRightLanes<kShift>(d, v);
  } else {
    return s == static_cast<size_t>(kShift)
               ? hn::ShiftRightLanes<kShift>(d, v)
               : ShiftDownLanes<kShift + 1>(d, v, s);
  }
}
#endif

// v's last r lanes (0 < r < N) moved down to [0, r), zeros above: the lanes
// LoadN gives, so a sum adds the same values in the same order. 128-bit
// vectors shift by a constant (Highway 1.0.3's wasm TableLookupLanes goes
// through memory a byte at a time: ~200 x86 instructions); wider ones,
// whose lane shifts stay within 128-bit blocks, look the lanes up.
template <class D, class V>
HWY_INLINE V LastLanes(D d, V v, size_t r) {
  const size_t n = hn::Lanes(d);
  if constexpr (hn::MaxLanes(d) * sizeof(hn::TFromD<D>) == 16) {
    return ShiftDownLanes(d, v, n - r);
  } else {
    const hn::RebindToSigned<D> di;
    // Iota(di, 0) is a constant: cheaper than an Iota from a variable.
    const auto from = hn::Min(
        hn::Add(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(n - r))),
        hn::Set(di, static_cast<int32_t>(n) - 1));
    return hn::IfThenElseZero(
        hn::FirstN(d, r), hn::TableLookupLanes(v, hn::IndicesFromVec(d, from)));
  }
}

// sum((a - b)^2) over n, or the squares themselves into `sq` when it is not
// null (reduction 'none'). Blocks of 1024 are summed in float lanes (four
// accumulators) and the block sums in double: relative error ~ 1e-7 for any
// n, where one float accumulator would drift by ~n * 6e-8.
HWY_NOINLINE double SquaredDiff(const float* a, const float* b, float* sq,
                                size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  double total = 0;
  for (size_t start = 0; start < n; start += 1024) {
    const size_t end = start + 1024 < n ? start + 1024 : n;
    auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
    size_t i = start;
    for (; i + 4 * N <= end; i += 4 * N) {
      const auto e0 = hn::Sub(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
      const auto e1 = hn::Sub(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N));
      const auto e2 =
          hn::Sub(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N));
      const auto e3 =
          hn::Sub(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N));
      if (sq) {
        hn::StoreU(hn::Mul(e0, e0), d, sq + i);
        hn::StoreU(hn::Mul(e1, e1), d, sq + i + N);
        hn::StoreU(hn::Mul(e2, e2), d, sq + i + 2 * N);
        hn::StoreU(hn::Mul(e3, e3), d, sq + i + 3 * N);
      }
      s0 = hn::MulAdd(e0, e0, s0);
      s1 = hn::MulAdd(e1, e1, s1);
      s2 = hn::MulAdd(e2, e2, s2);
      s3 = hn::MulAdd(e3, e3, s3);
    }
    for (; i + N <= end; i += N) {
      const auto e = hn::Sub(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
      if (sq) hn::StoreU(hn::Mul(e, e), d, sq + i);
      s0 = hn::MulAdd(e, e, s0);
    }
    if (i < end) {
      const size_t r = end - i;
      const auto e = end >= N ? LastLanes(d,
                                          hn::Sub(hn::LoadU(d, a + end - N),
                                                  hn::LoadU(d, b + end - N)),
                                          r)
                              : hn::Sub(LoadN(d, a + i, r), LoadN(d, b + i, r));
      if (sq) StoreN(hn::Mul(e, e), d, sq + i, r);
      s0 = hn::MulAdd(e, e, s0);  // lanes past r are 0 - 0
    }
    const auto s = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
    total += hn::GetLane(hn::SumOfLanes(d, s));
  }
  return total;
}

// da += k * g_i * (a - b) and db -= the same, g_i = g[i] (g_stride 1) or
// g[0] (g_stride 0, a reduced loss); either of da, db may be null.
HWY_NOINLINE void SquaredDiffBackward(const float* a, const float* b,
                                      const float* g, size_t g_stride, float k,
                                      float* da, float* db, size_t n) {
  if (n == 0) return;
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k);
  // k g[0], for every element of a reduced loss: once, not per vector.
  const auto u0 = hn::Mul(vk, hn::Set(d, g[0]));
  // The terms k g_i (a - b) of the vector from index i on.
  auto terms = [&](size_t i) {
    const auto e = hn::Sub(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
    return hn::Mul(g_stride ? hn::Mul(vk, hn::LoadU(d, g + i)) : u0, e);
  };
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto t = terms(i);
    if (da) hn::StoreU(hn::Add(hn::LoadU(d, da + i), t), d, da + i);
    if (db) hn::StoreU(hn::Sub(hn::LoadU(d, db + i), t), d, db + i);
  }
  if (i == n) return;
  const size_t r = n - i;
  if (n >= N) {
    // The whole vector ending at n; its first N - r lanes keep their
    // gradients (the loop above did them).
    const size_t j = n - N;
    const auto t = terms(j);
    const auto done = hn::FirstN(d, N - r);
    if (da) {
      const auto old = hn::LoadU(d, da + j);
      hn::StoreU(hn::IfThenElse(done, old, hn::Add(old, t)), d, da + j);
    }
    if (db) {
      const auto old = hn::LoadU(d, db + j);
      hn::StoreU(hn::IfThenElse(done, old, hn::Sub(old, t)), d, db + j);
    }
    return;
  }
  const auto e = hn::Sub(LoadN(d, a + i, r), LoadN(d, b + i, r));
  const auto t = hn::Mul(g_stride ? hn::Mul(vk, LoadN(d, g + i, r)) : u0, e);
  if (da) StoreN(hn::Add(LoadN(d, da + i, r), t), d, da + i, r);
  if (db) StoreN(hn::Sub(LoadN(d, db + i, r), t), d, db + i, r);
}

// ---------------------------------------------------------------------------
// Pointwise losses. Each kernel maps elements [i, i + r) to a vector of
// per-element losses (forward) or adds u * d(loss)/d(each input) into the
// wanted gradients (backward), u = k * g_i: g[i] (g_stride 1, reduction
// 'none') or g[0] (g_stride 0), k the reduction's 1/n. The drivers below do
// the loops, the tails and the sum.

// Elements [i, i + r) of p; r == Lanes(d) is a full vector, r < Lanes(d)
// the tail (tested as r >= Lanes, so the compiler sees the tail's bound) (LoadN
// pads with zeros, StoreN writes r lanes only).
// p[0, r) += v: gradients accumulate.
template <class D>
HWY_INLINE void AddTo(D d, hn::Vec<D> v, float* p, size_t r) {
  StoreUpTo(d, hn::Add(LoadUpTo(d, p, r), v), p, r);
}

// Calls f(i, r) on full vectors, then once on the tail.
template <class D, class F>
HWY_INLINE void ForEachVector(D d, size_t n, const F& f) {
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) f(i, N);
  if (i < n) f(i, n - i);
}

// u = k * g for elements [i, i + r).
template <class D>
HWY_INLINE hn::Vec<D> Upstream(D d, const float* g, size_t g_stride, float k,
                               size_t i, size_t r) {
  if (!g_stride) return hn::Set(d, k * g[0]);
  return hn::Mul(hn::Set(d, k), LoadUpTo(d, g + i, r));
}

// Losses of the difference e = a - b: da += u h(e), db -= u h(e).
template <class D, class H>
HWY_INLINE void DiffLossBackward(D d, const float* a, const float* b,
                                 const float* g, size_t g_stride, float k,
                                 float* da, float* db, size_t n, const H& h) {
  ForEachVector(d, n, [&](size_t i, size_t r) {
    const auto e = hn::Sub(LoadUpTo(d, a + i, r), LoadUpTo(d, b + i, r));
    const auto t = hn::Mul(Upstream(d, g, g_stride, k, i, r), h(e));
    if (da) AddTo(d, t, da + i, r);
    if (db) StoreUpTo(d, hn::Sub(LoadUpTo(d, db + i, r), t), db + i, r);
  });
}

// e^x for any x, float32. Highway's Exp is only valid up to ~88.7 (e^200
// comes out as 0): beyond, the result is +inf as it should be; NaN stays
// NaN. Max error 1 ulp (Highway's).
template <class D, class V>
HWY_INLINE V ExpAny(D d, V x) {
  const V e = hn::Exp(d, x);
  const V big = hn::IfThenElse(hn::IsNaN(x), x, hn::Set(d, HUGE_VALF));
  return hn::IfThenElse(hn::Gt(x, hn::Set(d, 88.72283f)), big, e);
}
// log x for any x, float32: Highway's Log (max error 2 ulp, subnormals
// included) for finite x > 0, and the limits elsewhere that it does not
// give (log 0 = -inf, log inf = inf, NaN for x < 0 and NaN).
template <class D, class V>
HWY_INLINE V LogAny(D d, V x) {
  const V kZero = hn::Zero(d);
  const V lg = hn::Log(d, x);
  const V edge = hn::IfThenElse(
      hn::Eq(x, kZero), hn::Set(d, -HUGE_VALF),
      hn::IfThenElse(hn::Eq(x, hn::Set(d, HUGE_VALF)), x,
                     hn::Set(d, std::numeric_limits<float>::quiet_NaN())));
  const auto normal = hn::And(hn::Gt(x, kZero), hn::IsFinite(x));
  return hn::IfThenElse(normal, lg, edge);
}

// sign(e) with sign(0) = 0 and NaN kept (PyTorch's sgn): L1's subgradient.
template <class D, class V>
HWY_INLINE V SignOrZero(D d, V e) {
  const V s = hn::CopySign(hn::Set(d, 1.0f), e);
  return hn::IfThenElse(hn::Eq(e, hn::Zero(d)), hn::Zero(d),
                        hn::IfThenElse(hn::IsNaN(e), e, s));
}

// ----- l1: |a - b|. Valid for any input; exact but for the rounding of a - b.
HWY_NOINLINE double AbsDiff(const float* a, const float* b, float* out,
                            size_t n) {
  const hn::ScalableTag<float> d;
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    return hn::Abs(hn::Sub(LoadUpTo(d, a + i, r), LoadUpTo(d, b + i, r)));
  });
}
HWY_NOINLINE void AbsDiffBackward(const float* a, const float* b,
                                  const float* g, size_t g_stride, float k,
                                  float* da, float* db, size_t n) {
  const hn::ScalableTag<float> d;
  DiffLossBackward(d, a, b, g, g_stride, k, da, db, n,
                   [&](auto e) { return SignOrZero(d, e); });
}

// ----- huber: 0.5 e^2 for |e| <= delta, delta (|e| - delta/2) beyond
// (delta > 0). The gradient is e clamped to [-delta, delta]. Error ~2 ulp.
HWY_NOINLINE double Huber(const float* a, const float* b, float delta,
                          float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const auto vd = hn::Set(d, delta), vh = hn::Set(d, 0.5f * delta);
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto e = hn::Sub(LoadUpTo(d, a + i, r), LoadUpTo(d, b + i, r));
    const auto ae = hn::Abs(e);
    const auto quad = hn::Mul(hn::Mul(hn::Set(d, 0.5f), e), e);
    return hn::IfThenElse(hn::Le(ae, vd), quad, hn::Mul(vd, hn::Sub(ae, vh)));
  });
}
HWY_NOINLINE void HuberBackward(const float* a, const float* b, const float* g,
                                size_t g_stride, float k, float delta,
                                float* da, float* db, size_t n) {
  const hn::ScalableTag<float> d;
  DiffLossBackward(d, a, b, g, g_stride, k, da, db, n, [&](auto e) {
    return ClampAbove(d, ClampBelow(d, e, -delta), delta);
  });
}

// ----- smooth_l1: 0.5 e^2 / beta for |e| < beta, |e| - beta/2 beyond (beta >
// 0; beta = 0 is AbsDiff). e^2 / beta is formed as e (e / beta): no overflow
// of 1/beta for a tiny beta. Gradient: e / beta clamped to [-1, 1].
HWY_NOINLINE double SmoothL1(const float* a, const float* b, float beta,
                             float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const auto vb = hn::Set(d, beta), vh = hn::Set(d, 0.5f * beta);
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto e = hn::Sub(LoadUpTo(d, a + i, r), LoadUpTo(d, b + i, r));
    const auto ae = hn::Abs(e);
    const auto quad = hn::Mul(hn::Mul(hn::Set(d, 0.5f), e), hn::Div(e, vb));
    return hn::IfThenElse(hn::Lt(ae, vb), quad, hn::Sub(ae, vh));
  });
}
HWY_NOINLINE void SmoothL1Backward(const float* a, const float* b,
                                   const float* g, size_t g_stride, float k,
                                   float beta, float* da, float* db, size_t n) {
  const hn::ScalableTag<float> d;
  const auto vb = hn::Set(d, beta);
  DiffLossBackward(d, a, b, g, g_stride, k, da, db, n, [&](auto e) {
    return ClampAbove(d, ClampBelow(d, hn::Div(e, vb), -1.0f), 1.0f);
  });
}

// ----- bce on probabilities x in [0, 1], targets t, weights w (null: 1):
// -w (t max(log x, -100) + (1 - t) max(log(1 - x), -100)), PyTorch's clamp
// of each log at -100 (so x = 0 or 1 gives a finite loss). log(1 - x) is
// log1p(-x): no rounding of 1 - x for small x. Error ~3 ulp of each log.
template <class D, class V>
HWY_INLINE V ClampedLog(D d, V x) {  // max(log x, -100), x in [0, 1]
  const V lg = ClampBelow(d, hn::Log(d, x), -100.0f);
  return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), lg, hn::Set(d, -100.0f));
}
template <class D, class V>
HWY_INLINE V ClampedLog1m(D d, V x) {  // max(log(1 - x), -100), x in [0, 1]
  const V lg = ClampBelow(d, hn::Log1p(d, hn::Neg(x)), -100.0f);
  return hn::IfThenElse(hn::Lt(x, hn::Set(d, 1.0f)), lg, hn::Set(d, -100.0f));
}
HWY_NOINLINE double Bce(const float* x, const float* t, const float* w,
                        float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vt = LoadUpTo(d, t + i, r);
    const auto ll = hn::MulAdd(vt, ClampedLog(d, vx),
                               hn::Mul(hn::Sub(kOne, vt), ClampedLog1m(d, vx)));
    return w ? hn::Neg(hn::Mul(LoadUpTo(d, w + i, r), ll)) : hn::Neg(ll);
  });
}
// dx += u w (x - t) / max(x (1 - x), 1e-12) (PyTorch's guard), dt += u w
// (max(log(1 - x), -100) - max(log x, -100)).
HWY_NOINLINE void BceBackward(const float* x, const float* t, const float* w,
                              const float* g, size_t g_stride, float k,
                              float* dx, float* dt, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  ForEachVector(d, n, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vt = LoadUpTo(d, t + i, r);
    auto u = Upstream(d, g, g_stride, k, i, r);
    if (w) u = hn::Mul(u, LoadUpTo(d, w + i, r));
    if (dx) {
      const auto den = ClampBelow(d, hn::Mul(vx, hn::Sub(kOne, vx)), 1e-12f);
      AddTo(d, hn::Div(hn::Mul(u, hn::Sub(vx, vt)), den), dx + i, r);
    }
    if (dt) {
      const auto diff = hn::Sub(ClampedLog1m(d, vx), ClampedLog(d, vx));
      AddTo(d, hn::Mul(u, diff), dt + i, r);
    }
  });
}

// ----- bce_with_logits on logits x, targets y, weights w and pos_weight p
// (either null: 1; p indexed like x, the caller walks rows). With
// lw = 1 + (p - 1) y and L = log1p(e^{-|x|}), the loss
// w [(1 - y) softplus(x) + p y softplus(-x)] is evaluated as
//   x >= 0: w [(1 - y) x + lw L],   x < 0: w [p y |x| + lw L],
// sums of non-negative terms (for y in [0, 1], p >= 0): no cancellation
// even for |x| = 1e4, where max(x, 0) - x y would lose everything.
// Gradients, q = e^{-|x|} / (1 + e^{-|x|}) = sigma(-|x|):
//   dx = w [x >= 0 ? (1 - y) - lw q : lw q - p y],
//   dy = w [(x >= 0 ? -|x| : p |x|) + (p - 1) L].
HWY_NOINLINE double BceLogits(const float* x, const float* y, const float* w,
                              const float* pw, float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vy = LoadUpTo(d, y + i, r);
    const auto ax = hn::Abs(vx);
    const auto L = Log1pUnit(d, ExpNonPositive(d, hn::Neg(ax)));
    auto py = vy, lw = kOne;
    if (pw) {
      const auto p = LoadUpTo(d, pw + i, r);
      py = hn::Mul(p, vy);
      lw = hn::MulAdd(hn::Sub(p, kOne), vy, kOne);
    }
    const auto lin =
        hn::IfThenElse(hn::Ge(vx, hn::Zero(d)), hn::Mul(hn::Sub(kOne, vy), ax),
                       hn::Mul(py, ax));
    const auto loss = hn::MulAdd(lw, L, lin);
    return w ? hn::Mul(LoadUpTo(d, w + i, r), loss) : loss;
  });
}
HWY_NOINLINE void BceLogitsBackward(const float* x, const float* y,
                                    const float* w, const float* pw,
                                    const float* g, size_t g_stride, float k,
                                    float* dx, float* dy, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  ForEachVector(d, n, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vy = LoadUpTo(d, y + i, r);
    const auto ax = hn::Abs(vx);
    const auto e = ExpNonPositive(d, hn::Neg(ax));
    const auto pos = hn::Ge(vx, hn::Zero(d));
    auto u = Upstream(d, g, g_stride, k, i, r);
    if (w) u = hn::Mul(u, LoadUpTo(d, w + i, r));
    auto p = kOne, py = vy, lw = kOne;
    if (pw) {
      p = LoadUpTo(d, pw + i, r);
      py = hn::Mul(p, vy);
      lw = hn::MulAdd(hn::Sub(p, kOne), vy, kOne);
    }
    if (dx) {
      const auto lq = hn::Mul(lw, hn::Div(e, hn::Add(kOne, e)));
      const auto gx =
          hn::IfThenElse(pos, hn::Sub(hn::Sub(kOne, vy), lq), hn::Sub(lq, py));
      AddTo(d, hn::Mul(u, gx), dx + i, r);
    }
    if (dy) {
      auto gy = hn::IfThenElse(pos, hn::Neg(ax), hn::Mul(p, ax));
      if (pw) gy = hn::MulAdd(hn::Sub(p, kOne), Log1pUnit(d, e), gy);
      AddTo(d, hn::Mul(u, gy), dy + i, r);
    }
  });
}

// ----- kl_div, input x = log q, target t = p: t (log t - x), 0 where t = 0
// (PyTorch's xlogy; NaN for t < 0); with log_target, e^t (t - x).
// Gradients: dx = -t (-e^t), dt = log t + 1 - x (0 where t = 0), or
// e^t (t + 1 - x). Error ~3 ulp of log t (or e^t) times t.
HWY_NOINLINE double KlDiv(const float* x, const float* t, bool log_target,
                          float* out, size_t n) {
  const hn::ScalableTag<float> d;
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vt = LoadUpTo(d, t + i, r);
    if (log_target) return hn::Mul(ExpAny(d, vt), hn::Sub(vt, vx));
    const auto v = hn::Mul(vt, hn::Sub(LogAny(d, vt), vx));
    // 0 log 0 - 0 x = +0 (NaN for an infinite x, as PyTorch's xlogy form)
    const auto at0 = hn::Sub(hn::Zero(d), hn::Mul(vt, vx));
    return hn::IfThenElse(hn::Eq(vt, hn::Zero(d)), at0, v);
  });
}
HWY_NOINLINE void KlDivBackward(const float* x, const float* t, bool log_target,
                                const float* g, size_t g_stride, float k,
                                float* dx, float* dt, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  ForEachVector(d, n, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vt = LoadUpTo(d, t + i, r);
    const auto u = Upstream(d, g, g_stride, k, i, r);
    if (log_target) {
      const auto ue = hn::Mul(u, ExpAny(d, vt));
      if (dx) StoreUpTo(d, hn::Sub(LoadUpTo(d, dx + i, r), ue), dx + i, r);
      if (dt) AddTo(d, hn::Mul(ue, hn::Add(hn::Sub(vt, vx), kOne)), dt + i, r);
      return;
    }
    if (dx)
      StoreUpTo(d, hn::NegMulAdd(u, vt, LoadUpTo(d, dx + i, r)), dx + i, r);
    if (dt) {
      const auto gt = hn::Add(hn::Sub(LogAny(d, vt), vx), kOne);
      const auto v = hn::IfThenElseZero(hn::Ne(vt, hn::Zero(d)), gt);
      AddTo(d, hn::Mul(u, v), dt + i, r);
    }
  });
}

// ----- poisson_nll on input x, target t: e^x - t x (log_input) or
// x - t log(x + eps); full adds Stirling's t log t - t + log(2 pi t)/2 where
// t > 1. Gradients: dx = e^x - t or 1 - t / (x + eps); dt = -x or
// -log(x + eps), plus log t + 1/(2t) where t > 1.
template <class D, class V>
HWY_INLINE V Stirling(D d, V t, V lt) {  // t > 1 only; lt = log t
  const V kHalf = hn::Set(d, 0.5f);
  const V s =
      hn::MulAdd(t, hn::Sub(lt, hn::Set(d, 1.0f)),
                 hn::Mul(kHalf, hn::Add(lt, hn::Set(d, 1.83787706640934548f))));
  return hn::IfThenElseZero(hn::Gt(t, hn::Set(d, 1.0f)), s);
}
HWY_NOINLINE double PoissonNll(const float* x, const float* t, bool log_input,
                               bool full, float eps, float* out, size_t n) {
  const hn::ScalableTag<float> d;
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vt = LoadUpTo(d, t + i, r);
    auto v = log_input ? hn::NegMulAdd(vt, vx, ExpAny(d, vx))
                       : hn::NegMulAdd(
                             vt, LogAny(d, hn::Add(vx, hn::Set(d, eps))), vx);
    if (full) v = hn::Add(v, Stirling(d, vt, LogAny(d, vt)));
    return v;
  });
}
HWY_NOINLINE void PoissonNllBackward(const float* x, const float* t,
                                     bool log_input, bool full, float eps,
                                     const float* g, size_t g_stride, float k,
                                     float* dx, float* dt, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  ForEachVector(d, n, [&](size_t i, size_t r) {
    const auto vx = LoadUpTo(d, x + i, r), vt = LoadUpTo(d, t + i, r);
    const auto u = Upstream(d, g, g_stride, k, i, r);
    const auto xe = hn::Add(vx, hn::Set(d, eps));
    if (dx) {
      const auto gx = log_input ? hn::Sub(ExpAny(d, vx), vt)
                                : hn::Sub(kOne, hn::Div(vt, xe));
      AddTo(d, hn::Mul(u, gx), dx + i, r);
    }
    if (dt) {
      auto gt = log_input ? hn::Neg(vx) : hn::Neg(LogAny(d, xe));
      if (full) {
        const auto st = hn::Add(LogAny(d, vt), hn::Div(hn::Set(d, 0.5f), vt));
        gt = hn::Add(gt, hn::IfThenElseZero(hn::Gt(vt, kOne), st));
      }
      AddTo(d, hn::Mul(u, gt), dt + i, r);
    }
  });
}

// ----- gaussian_nll on mean x, target y, variance var: with v = max(var,
// eps), (log v + (x - y)^2 / v) / 2 (+ log(2 pi) / 2 when full). Gradients:
// dx = -dy = (x - y) / v; dvar = (1 - (x - y)^2 / v) / (2 v) everywhere,
// with the clamped v: PyTorch clamps under no_grad, so the gradient passes
// through the clamp unchanged.
HWY_NOINLINE double GaussianNll(const float* x, const float* y,
                                const float* var, float eps, bool full,
                                float* out, size_t n) {
  const hn::ScalableTag<float> d;
  const auto kHalf = hn::Set(d, 0.5f);
  const auto c = hn::Set(d, full ? 0.918938533204672742f : 0.0f);
  return SumLosses(d, n, out, [&](size_t i, size_t r) {
    const auto e = hn::Sub(LoadUpTo(d, x + i, r), LoadUpTo(d, y + i, r));
    const auto v = ClampBelow(d, LoadUpTo(d, var + i, r), eps);
    const auto s = hn::Add(LogAny(d, v), hn::Div(hn::Mul(e, e), v));
    return hn::MulAdd(kHalf, s, c);
  });
}
HWY_NOINLINE void GaussianNllBackward(const float* x, const float* y,
                                      const float* var, float eps,
                                      const float* g, size_t g_stride, float k,
                                      float* dx, float* dy, float* dvar,
                                      size_t n) {
  const hn::ScalableTag<float> d;
  const auto kOne = hn::Set(d, 1.0f);
  ForEachVector(d, n, [&](size_t i, size_t r) {
    const auto e = hn::Sub(LoadUpTo(d, x + i, r), LoadUpTo(d, y + i, r));
    const auto v = ClampBelow(d, LoadUpTo(d, var + i, r), eps);
    const auto u = Upstream(d, g, g_stride, k, i, r);
    const auto q = hn::Div(e, v);
    const auto uq = hn::Mul(u, q);
    if (dx) AddTo(d, uq, dx + i, r);
    if (dy) StoreUpTo(d, hn::Sub(LoadUpTo(d, dy + i, r), uq), dy + i, r);
    if (dvar) {
      const auto gv = hn::Div(hn::NegMulAdd(e, q, kOne), hn::Add(v, v));
      AddTo(d, hn::Mul(u, gv), dvar + i, r);
    }
  });
}

// ===========================================================================
// Classification and ranking losses. Legend: N rows (samples), C classes, D
// features.

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

// dt_c += k w_c (m + lse - x_c) = -k w_c log p_c over one row (w null:
// ones): cross-entropy's gradient with respect to probability targets, from
// the row max m and log-sum lse the forward saved. (m - x_c) + lse sums two
// non-negative terms: no cancellation. Error ~1 ulp of each term.
HWY_NOINLINE void ClsRowNegLogProb(const float* x, const float* w, float m,
                                   float lse, float k, float* dt, size_t cols) {
  const hn::ScalableTag<float> d;
  const auto vm = hn::Set(d, m), vl = hn::Set(d, lse), vk = hn::Set(d, k);
  ForEachVector(d, cols, [&](size_t i, size_t r) {
    auto g = hn::Mul(vk, hn::Add(hn::Sub(vm, LoadUpTo(d, x + i, r)), vl));
    if (w) g = hn::Mul(g, LoadUpTo(d, w + i, r));
    AddTo(d, g, dt + i, r);
  });
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

#endif  // DLMATH_OPS_LOSSES_INL_H_
