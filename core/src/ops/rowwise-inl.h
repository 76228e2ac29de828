// Row-wise activation kernels (Highway): softmax and its relatives over the
// last dimension. Legend: rows x cols, cols = the last dimension; every row
// is independent. Forward first, then backward, which ACCUMULATES (+=) into
// dx (and dp); the caller zeroes them once per step.
#if defined(DLMATH_OPS_ROWWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_ROWWISE_INL_H_
#undef DLMATH_OPS_ROWWISE_INL_H_
#else
#define DLMATH_OPS_ROWWISE_INL_H_
#endif

#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------
// Row-wise helpers over one row of `cols` floats.

HWY_INLINE float RowMax(const float* x, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  auto m0 = hn::Set(d, -INFINITY), m1 = m0;
  size_t i = 0;
  for (; i + 2 * N <= cols; i += 2 * N) {
    m0 = hn::Max(m0, hn::LoadU(d, x + i));
    m1 = hn::Max(m1, hn::LoadU(d, x + i + N));
  }
  for (; i + N <= cols; i += N) m0 = hn::Max(m0, hn::LoadU(d, x + i));
  float m = hn::GetLane(hn::MaxOfLanes(d, hn::Max(m0, m1)));
  for (; i < cols; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// y = e^(x - shift) (x - shift <= 0 assumed), returns the row sum of y.
HWY_INLINE float RowExpShifted(const float* x, float* y, size_t cols,
                               float shift) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vs = hn::Set(d, shift);
  auto s0 = hn::Zero(d), s1 = s0;
  size_t i = 0;
  for (; i + 2 * N <= cols; i += 2 * N) {
    const auto e0 = ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i), vs));
    const auto e1 = ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i + N), vs));
    hn::StoreU(e0, d, y + i);
    hn::StoreU(e1, d, y + i + N);
    s0 = hn::Add(s0, e0);
    s1 = hn::Add(s1, e1);
  }
  for (; i + N <= cols; i += N) {
    const auto e0 = ExpNonPositive(d, hn::Sub(hn::LoadU(d, x + i), vs));
    hn::StoreU(e0, d, y + i);
    s0 = hn::Add(s0, e0);
  }
  if (i < cols) {
    // Zero-padded lanes would add e^(0 - shift): mask them out of the sum.
    const size_t r = cols - i;
    auto e0 = ExpNonPositive(d, hn::Sub(LoadN(d, x + i, r), vs));
    e0 = hn::IfThenElseZero(hn::FirstN(d, r), e0);
    StoreN(e0, d, y + i, r);
    s0 = hn::Add(s0, e0);
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
}

HWY_INLINE void RowScale(float* y, size_t cols, float k) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k);
  size_t i = 0;
  for (; i + N <= cols; i += N)
    hn::StoreU(hn::Mul(hn::LoadU(d, y + i), vk), d, y + i);
  for (; i < cols; ++i) y[i] *= k;
}

HWY_INLINE float RowDot(const float* a, const float* b, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = s0;
  size_t i = 0;
  for (; i + 2 * N <= cols; i += 2 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), s1);
  }
  for (; i + N <= cols; i += N)
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  for (; i < cols; ++i) s += a[i] * b[i];
  return s;
}

// ---------------------------------------------------------------------------
// softmax. rows x cols -> rows x cols. y = e^(x - max) / sum, max starting at
// -inf so a row of -inf gives NaN like PyTorch. In place is fine. Error
// <= 2e-7 * max(1, y). Backward uses y: dx += y * (dy - <dy, y>).

HWY_NOINLINE void SoftmaxForward(const float* x, float* y, size_t rows,
                                 size_t cols, const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = RowMax(xr, cols);
    const float s = RowExpShifted(xr, yr, cols, m);
    RowScale(yr, cols, 1.0f / s);
  }
}

HWY_NOINLINE void SoftmaxBackward(const float* /*x*/, const float* y,
                                  const float* dy, float* dx, double* /*dp*/,
                                  size_t rows, size_t cols,
                                  const double* /*p*/) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    float* dxr = dx + r * cols;
    const auto dot = hn::Set(d, RowDot(gr, yr, cols));
    size_t i = 0;
    for (; i + N <= cols; i += N) {
      const auto yv = hn::LoadU(d, yr + i);
      const auto t = hn::Mul(yv, hn::Sub(hn::LoadU(d, gr + i), dot));
      hn::StoreU(hn::Add(hn::LoadU(d, dxr + i), t), d, dxr + i);
    }
    const float dots = hn::GetLane(dot);
    for (; i < cols; ++i) dxr[i] += yr[i] * (gr[i] - dots);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_ROWWISE_INL_H_
