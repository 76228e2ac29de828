// Attention kernels (Highway): the row-wise parts of attention between the
// Eigen matrix products of attention.cc -- masking the score matrix, its
// row softmax and the softmax backward. Legend: rows = L queries, cols = S
// keys; every row is independent. Backward ACCUMULATES only where it says
// so; the softmax backward here works in place on a scratch buffer.
//
// These are this file's own row helpers (rowwise-inl.h's belong to the
// activations build): four vectors per step into independent accumulators,
// tails through LoadN/StoreN, e^x from ExpNonPositiveFast (2.3 ulp; its
// argument x - max is never positive).

// How AttentionMask reads a mask (below); the same for every target.
#ifndef DLMATH_OPS_ATTENTION_MASK_KIND_
#define DLMATH_OPS_ATTENTION_MASK_KIND_
namespace dlmath {
enum AttentionMaskKind { kAddMask = 0, kKeepNonzero = 1, kHideNonzero = 2 };
}  // namespace dlmath
#endif

#if defined(DLMATH_OPS_ATTENTION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_ATTENTION_INL_H_
#undef DLMATH_OPS_ATTENTION_INL_H_
#else
#define DLMATH_OPS_ATTENTION_INL_H_
#endif

#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// x = e^(x - m) in place, returning the sum (x - m <= 0 or NaN).
HWY_INLINE float AttnRowExp(float* x, size_t cols, float m) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, m);
  auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N) {
    const auto e0 = ExpNonPositiveFast(d, hn::Sub(hn::LoadU(d, x + i), vm));
    const auto e1 = ExpNonPositiveFast(d, hn::Sub(hn::LoadU(d, x + i + N), vm));
    const auto e2 =
        ExpNonPositiveFast(d, hn::Sub(hn::LoadU(d, x + i + 2 * N), vm));
    const auto e3 =
        ExpNonPositiveFast(d, hn::Sub(hn::LoadU(d, x + i + 3 * N), vm));
    hn::StoreU(e0, d, x + i);
    hn::StoreU(e1, d, x + i + N);
    hn::StoreU(e2, d, x + i + 2 * N);
    hn::StoreU(e3, d, x + i + 3 * N);
    s0 = hn::Add(s0, e0);
    s1 = hn::Add(s1, e1);
    s2 = hn::Add(s2, e2);
    s3 = hn::Add(s3, e3);
  }
  for (; i + N <= cols; i += N) {
    const auto e = ExpNonPositiveFast(d, hn::Sub(hn::LoadU(d, x + i), vm));
    hn::StoreU(e, d, x + i);
    s0 = hn::Add(s0, e);
  }
  if (i < cols) {
    const size_t r = cols - i;
    // Padded lanes would add e^(-m): mask them out of the sum.
    const auto e = hn::IfThenElseZero(
        hn::FirstN(d, r),
        ExpNonPositiveFast(d, hn::Sub(LoadN(d, x + i, r), vm)));
    StoreN(e, d, x + i, r);
    s1 = hn::Add(s1, e);
  }
  s0 = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
  return hn::GetLane(hn::SumOfLanes(d, s0));
}

// x *= k over a row.
HWY_INLINE void AttnRowScale(float* x, size_t cols, float k) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k);
  size_t i = 0;
  for (; i + N <= cols; i += N)
    hn::StoreU(hn::Mul(hn::LoadU(d, x + i), vk), d, x + i);
  if (i < cols)
    StoreN(hn::Mul(LoadN(d, x + i, cols - i), vk), d, x + i, cols - i);
}

// ---------------------------------------------------------------------------
// Masks on a score matrix s [rows, cols] (row-major). Row r of the mask
// starts at mask + r * mask_stride (stride cols: one entry per query and
// key; stride 0: one row for every query, a key padding mask). kind
// kAddMask: s += mask (additive float mask); kKeepNonzero: s = -inf where
// mask == 0 (scaled_dot_product_attention's boolean mask, True keeps the
// key); kHideNonzero: s = -inf where mask != 0 (nn.MultiheadAttention's,
// True hides it). causal: key j > query i is set to -inf (PyTorch's top-left
// aligned tril(ones(L, S))). mask may be null (no mask).

HWY_NOINLINE void AttentionMask(float* s, const float* mask, size_t mask_stride,
                                size_t rows, size_t cols, int kind,
                                int causal) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto kNegInf = hn::Set(d, -INFINITY);
  const auto zero = hn::Zero(d);
  for (size_t r = 0; r < rows; ++r) {
    float* sr = s + r * cols;
    if (mask) {
      const float* mr = mask + r * mask_stride;
      const auto f = [&](auto v, auto m) {
        if (kind == kAddMask) return hn::Add(v, m);
        const auto hide =
            kind == kKeepNonzero ? hn::Eq(m, zero) : hn::Ne(m, zero);
        return hn::IfThenElse(hide, kNegInf, v);
      };
      size_t i = 0;
      for (; i + N <= cols; i += N)
        hn::StoreU(f(hn::LoadU(d, sr + i), hn::LoadU(d, mr + i)), d, sr + i);
      if (i < cols) {
        const size_t n = cols - i;
        StoreN(f(LoadN(d, sr + i, n), LoadN(d, mr + i, n)), d, sr + i, n);
      }
    }
    if (causal)
      for (size_t j = r + 1; j < cols; ++j) sr[j] = -INFINITY;
  }
}

// ---------------------------------------------------------------------------
// Row softmax in place over rows x cols: y = e^(x - max) / sum, max from
// -inf. A row whose scores are all -inf (every key masked out) becomes all
// zeros, as PyTorch >= 2.5's SDPA (_safe_softmax); a NaN or +inf score gives
// a NaN row. Error <= 3e-7 * max(1, y).

HWY_NOINLINE void AttentionSoftmax(float* x, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    const float m = RowMax(xr, cols);
    if (m == -INFINITY) {
      for (size_t j = 0; j < cols; ++j) xr[j] = 0.0f;
      continue;
    }
    const float s = AttnRowExp(xr, cols, m);
    AttnRowScale(xr, cols, 1.0f / s);
  }
}

// Softmax backward in place: g = y * (g - <g, y>) per row (g holds dL/dy on
// entry and dL/dx on exit; it is scratch, not an accumulated gradient). A
// zero row of y (fully masked) gives a zero gradient.

HWY_NOINLINE void AttentionSoftmaxBackward(const float* y, float* g,
                                           size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    float* gr = g + r * cols;
    const auto dot = hn::Set(d, RowDot(gr, yr, cols));
    size_t i = 0;
    for (; i + N <= cols; i += N)
      hn::StoreU(
          hn::Mul(hn::LoadU(d, yr + i), hn::Sub(hn::LoadU(d, gr + i), dot)), d,
          gr + i);
    if (i < cols) {
      const size_t n = cols - i;
      StoreN(hn::Mul(LoadN(d, yr + i, n), hn::Sub(LoadN(d, gr + i, n), dot)), d,
             gr + i, n);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_ATTENTION_INL_H_
