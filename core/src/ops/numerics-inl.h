// Numerics kernels (Highway): gradient clipping and the textbook (unstable)
// softmax / logsumexp that the page uses to show float32 overflow. Legend: n
// elements; rows x cols, cols = the last dimension. Backward ACCUMULATES (+=)
// into dx; the caller zeroes it once per step.
#if defined(DLMATH_OPS_NUMERICS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_NUMERICS_INL_H_
#undef DLMATH_OPS_NUMERICS_INL_H_
#else
#define DLMATH_OPS_NUMERICS_INL_H_
#endif

#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "dlmath/registry.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------
// clip_grad_value. n -> n, clip_value c > 0: y = clamp(x, -c, c), exact, NaN
// kept. Backward: dx += dy where -c <= x <= c (the bounds pass, like
// torch.clamp's backward), 0 beyond them and at NaN. Nothing saved.

HWY_NOINLINE void ClipGradValueForward(const float* x, float* y, size_t n,
                                       const double* p) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const float c =
      static_cast<float>(p[DLMATH_PARAM(clip_grad_value, clip_value)]);
  auto f = [&](auto v) { return ClampAbove(d, ClampBelow(d, v, -c), c); };
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(f(hn::LoadU(d, x + i)), d, y + i);
  if (i < n) StoreN(f(LoadN(d, x + i, n - i)), d, y + i, n - i);
}

HWY_NOINLINE void ClipGradValueBackward(const float* x, const float* /*y*/,
                                        const float* dy, float* dx,
                                        double* /*dp*/, size_t n,
                                        const double* p) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto lo = hn::Set(
      d, static_cast<float>(-p[DLMATH_PARAM(clip_grad_value, clip_value)]));
  const auto hi = hn::Set(
      d, static_cast<float>(p[DLMATH_PARAM(clip_grad_value, clip_value)]));
  auto g = [&](auto v, auto gv) {  // NaN compares false: gradient 0
    return KeepIf(d, hn::And(hn::Ge(v, lo), hn::Le(v, hi)), gv);
  };
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto t = g(hn::LoadU(d, x + i), hn::LoadU(d, dy + i));
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i), t), d, dx + i);
  }
  if (i < n) {
    const size_t r = n - i;
    const auto t = g(LoadN(d, x + i, r), LoadN(d, dy + i, r));
    StoreN(hn::Add(LoadN(d, dx + i, r), t), d, dx + i, r);
  }
}

// ---------------------------------------------------------------------------
// Helpers of clip_grad_norm.

// The squares of x [n] per piece, the pieces one after another (piece j:
// sizes[j] values, floats holding integers; sizes null: one piece of n):
// norms[j] = sqrt(sum of piece j's squares) rounded to float; returns the
// sum over all pieces. Each piece by BlockSum (simd-inl.h): relative error
// ~1e-7 whatever its length. One call for every piece: a training step
// measures each layer's gradient this way.
HWY_NOINLINE double PieceSquares(const float* x, const float* sizes, size_t k,
                                 size_t n, float* norms) {
  const hn::ScalableTag<float> d;
  double total = 0;
  for (size_t j = 0; j < k; ++j) {
    const size_t len = sizes ? static_cast<size_t>(sizes[j]) : n;
    const double piece = BlockSum(d, len, [&](size_t i, size_t r) {
      const auto v = LoadUpTo(d, x + i, r);
      return hn::Mul(v, v);
    });
    norms[j] = static_cast<float>(std::sqrt(piece));
    total += piece;
    x += len;
  }
  return total;
}

// y = k x over n (y may alias x).
HWY_NOINLINE void Scale(const float* x, float k, float* y, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k);
  size_t i = 0;
  for (; i + N <= n; i += N)
    hn::StoreU(hn::Mul(vk, hn::LoadU(d, x + i)), d, y + i);
  if (i < n) StoreN(hn::Mul(vk, LoadN(d, x + i, n - i)), d, y + i, n - i);
}

// ---------------------------------------------------------------------------
// The naive ops: e^x over the WHOLE float range, overflowing to +inf above
// 88.72 and sliding through the subnormals to 0 below -103.3, exactly as
// expf would: that overflow is what these ops exist to show. Built as
// (e^{x/2})^2 from ExpNonPositive: e^{-|x|/2} (exact range, x/2 is exact),
// its reciprocal for x > 0, then one square, whose rounding produces the
// overflow / underflow at float's own thresholds. Error ~5 ulp.
template <class D, class V>
HWY_INLINE V ExpFullRange(D d, V x) {
  const V h = hn::Mul(x, hn::Set(d, 0.5f));
  const V e = ExpNonPositive(d, hn::Neg(hn::Abs(h)));
  const V r =
      hn::IfThenElse(hn::Gt(h, hn::Zero(d)), hn::Div(hn::Set(d, 1.0f), e), e);
  return hn::Mul(r, r);
}

// sum_i e^{x_i} (no shift), e^{x_i} stored to y when y is not null (y may
// alias x). Float lanes per block of 64 vectors, block totals in double,
// rounded to float at the end: the sum overflows to +inf exactly when its
// float32 value would (all terms are >= 0, so no lane can overflow early).
HWY_INLINE float NaiveExpSum(const float* x, float* y, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  double total = 0;
  for (size_t start = 0; start < cols; start += 64 * N) {
    const size_t end = start + 64 * N < cols ? start + 64 * N : cols;
    auto s0 = hn::Zero(d), s1 = s0;
    size_t i = start;
    for (; i + 2 * N <= end; i += 2 * N) {
      const auto e0 = ExpFullRange(d, hn::LoadU(d, x + i));
      const auto e1 = ExpFullRange(d, hn::LoadU(d, x + i + N));
      if (y) {
        hn::StoreU(e0, d, y + i);
        hn::StoreU(e1, d, y + i + N);
      }
      s0 = hn::Add(s0, e0);
      s1 = hn::Add(s1, e1);
    }
    for (; i < end; i += N) {
      const size_t r = end - i < N ? end - i : N;
      // Padded lanes would add e^0 = 1: mask them out.
      const auto e0 = hn::IfThenElseZero(hn::FirstN(d, r),
                                         ExpFullRange(d, LoadN(d, x + i, r)));
      if (y) StoreN(e0, d, y + i, r);
      s0 = hn::Add(s0, e0);
    }
    total += hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  }
  return static_cast<float>(total);
}

// dx += g * e^{x_i} / s over one row.
HWY_INLINE void NaiveRowGrad(const float* x, float s, float g, float* dx,
                             size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vs = hn::Set(d, s);
  for (size_t i = 0; i < cols; i += N) {
    const size_t r = cols - i < N ? cols - i : N;
    const auto e = ExpFullRange(d, LoadN(d, x + i, r));
    const auto t = hn::Mul(hn::Set(d, g), hn::Div(e, vs));
    StoreN(hn::Add(LoadN(d, dx + i, r), t), d, dx + i, r);
  }
}

// ---------------------------------------------------------------------------
// softmax_naive. rows x cols -> rows x cols: y = e^x / sum e^x with NO max
// subtracted, in float32. Once an entry passes 88.72 its e^x is +inf and
// the row becomes NaN (inf/inf) and 0; a row below -103 everywhere is 0/0 =
// NaN. Where nothing overflows, error ~6 ulp. Backward uses y, as softmax:
// dx += y * (dy - <dy, y>) (a NaN y poisons the row, as autograd would).

HWY_NOINLINE void SoftmaxNaiveForward(const float* x, float* y, size_t rows,
                                      size_t cols, const double* /*p*/) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    float* yr = y + r * cols;
    const auto vs = hn::Set(d, NaiveExpSum(x + r * cols, yr, cols));
    for (size_t i = 0; i < cols; i += N) {
      const size_t k = cols - i < N ? cols - i : N;
      StoreN(hn::Div(LoadN(d, yr + i, k), vs), d, yr + i, k);
    }
  }
}

HWY_NOINLINE void SoftmaxNaiveBackward(const float* /*x*/, const float* y,
                                       const float* dy, float* dx,
                                       double* /*dp*/, size_t rows, size_t cols,
                                       const double* /*p*/) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    float* dr = dx + r * cols;
    double dot = 0;
    for (size_t i = 0; i < cols; ++i) dot += double{gr[i]} * yr[i];
    const auto vdot = hn::Set(d, static_cast<float>(dot));
    for (size_t i = 0; i < cols; i += N) {
      const size_t k = cols - i < N ? cols - i : N;
      const auto t =
          hn::Mul(LoadN(d, yr + i, k), hn::Sub(LoadN(d, gr + i, k), vdot));
      StoreN(hn::Add(LoadN(d, dr + i, k), t), d, dr + i, k);
    }
  }
}

// ---------------------------------------------------------------------------
// logsumexp_naive. rows x cols -> rows: y = log(sum e^x), NO max
// subtracted, float32: +inf as soon as the sum overflows (an entry above
// 88.72, or many near it), -inf when every term underflows (all below
// -103). Error ~1e-7 absolute where finite. Backward recomputes the sum:
// dx += dy * e^x / sum e^x (NaN where the forward overflowed: inf/inf).

HWY_NOINLINE void LogsumexpNaiveForward(const float* x, float* y, size_t rows,
                                        size_t cols, const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r)
    y[r] = std::log(NaiveExpSum(x + r * cols, nullptr, cols));
}

HWY_NOINLINE void LogsumexpNaiveBackward(const float* x, const float* /*y*/,
                                         const float* dy, float* dx,
                                         double* /*dp*/, size_t rows,
                                         size_t cols, const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    NaiveRowGrad(xr, NaiveExpSum(xr, nullptr, cols), dy[r], dx + r * cols,
                 cols);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_NUMERICS_INL_H_
