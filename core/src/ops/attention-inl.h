// Attention kernels (Highway): the row-wise part of attention between the
// matrix products -- masking a row of scores, its scaled softmax and the
// softmax backward. Legend: one row = one query's scores over cols keys;
// every row is independent. The softmax backward works in place on a
// scratch buffer (it accumulates nothing).
//
// These are this file's own row helpers (rowwise-inl.h's belong to the
// activations build): four vectors per step into independent accumulators,
// tails through LoadN/StoreN, e^x from ExpNonPositiveFast (2.3 ulp; its
// argument x - max is never positive).

#if defined(DLMATH_OPS_ATTENTION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_ATTENTION_INL_H_
#undef DLMATH_OPS_ATTENTION_INL_H_
#else
#define DLMATH_OPS_ATTENTION_INL_H_
#endif

#include <cmath>
#include <type_traits>

#include "core/src/ops/attention.h"
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
// One row of masked, scaled softmax and its backward: the only softmax of
// attention, shared by the catalogue (attention.cc) and the GPT layer
// (model/attention.cc) through core/src/ops/attention.h. Row s [cols] holds
// the raw scores q k^T of one query; keys j >= n are hidden (a causal query
// i sees n = i + 1 keys).
//
// Forward, in place: t_j = scale s_j, then mask[j] and key_mask[j] applied
// by kind (either may be null): kAddMask adds them; kKeepNonzero sets t_j =
// -inf where the mask is 0 (scaled_dot_product_attention's boolean mask,
// True keeps the key); kHideNonzero where it is not 0 (nn.MultiheadAttention
// and key padding, True hides it). y = e^(t - max) / sum over j < n, max
// from -inf; y_j = 0 for j in [n, cols). A row with every t_j = -inf (all
// keys hidden) becomes all zeros, as PyTorch >= 2.5's SDPA (_safe_softmax);
// a NaN or +inf score gives a NaN row. Error <= 3e-7 * max(1, y). Saved for
// backward: y itself.

HWY_INLINE hn::Vec<hn::ScalableTag<float>> AttnMasked(
    hn::ScalableTag<float> d, hn::Vec<hn::ScalableTag<float>> t,
    hn::Vec<hn::ScalableTag<float>> m, int kind) {
  if (kind == kAddMask) return hn::Add(t, m);
  const auto zero = hn::Zero(d);
  const auto hide = kind == kKeepNonzero ? hn::Eq(m, zero) : hn::Ne(m, zero);
  return hn::IfThenElse(hide, hn::Set(d, -INFINITY), t);
}

HWY_NOINLINE void AttentionSoftmaxRow(float* s, const float* mask,
                                      const float* key_mask, size_t n,
                                      size_t cols, float scale, int kind) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vs = hn::Set(d, scale);
  const auto kNegInf = hn::Set(d, -INFINITY);
  auto vmax = kNegInf;
  // t over [i, i + r): r = N (full), or the tail, whose lanes past r stay
  // -inf. full is a type so that whole vectors never go through LoadN.
  const auto scores = [&](size_t i, size_t r, auto full) {
    const auto load = [&](const float* p) {
      if constexpr (decltype(full)::value) return hn::LoadU(d, p + i);
      return LoadN(d, p + i, r);
    };
    auto t = hn::Mul(load(s), vs);
    if (mask) t = AttnMasked(d, t, load(mask), kind);
    if (key_mask) t = AttnMasked(d, t, load(key_mask), kind);
    if constexpr (decltype(full)::value) {
      hn::StoreU(t, d, s + i);
    } else {
      t = hn::IfThenElse(hn::FirstN(d, r), t, kNegInf);
      StoreN(t, d, s + i, r);
    }
    vmax = hn::Max(vmax, t);
  };
  size_t i = 0;
  for (; i + N <= n; i += N) scores(i, N, std::true_type());
  if (i < n) scores(i, n - i, std::false_type());
  const float m = hn::GetLane(hn::MaxOfLanes(d, vmax));
  if (m == -INFINITY) {
    for (size_t j = 0; j < cols; ++j) s[j] = 0.0f;
    return;
  }
  AttnRowScale(s, n, 1.0f / AttnRowExp(s, n, m));
  for (size_t j = n; j < cols; ++j) s[j] = 0.0f;
}

// Backward of one row, in place: g = scale y * (g - <g, y>) over j < n (g
// holds dL/dy on entry and dL/d(raw scores) on exit; scratch, not an
// accumulated gradient). Entries from n on are not touched. A zero row of y
// (every key hidden) gives a zero gradient. <g, y> in float lanes: y sums to
// one, so its error stays ~n ulp of max |g|. The partial last vector is
// loaded once for both passes (attention rows are short: a causal GPT row
// of 16 keys is mostly tail).

HWY_NOINLINE void AttentionSoftmaxBackwardRow(const float* y, float* g,
                                              size_t n, float scale) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t full = n - n % N, r = n - full;
  const auto yt = r ? LoadN(d, y + full, r) : hn::Zero(d);
  const auto gt = r ? LoadN(d, g + full, r) : hn::Zero(d);
  auto acc0 = hn::Mul(gt, yt), acc1 = hn::Zero(d);
  size_t i = 0;
  for (; i + 2 * N <= full; i += 2 * N) {
    acc0 = hn::MulAdd(hn::LoadU(d, g + i), hn::LoadU(d, y + i), acc0);
    acc1 = hn::MulAdd(hn::LoadU(d, g + i + N), hn::LoadU(d, y + i + N), acc1);
  }
  if (i < full)
    acc0 = hn::MulAdd(hn::LoadU(d, g + i), hn::LoadU(d, y + i), acc0);
  const auto dot = hn::SumOfLanes(d, hn::Add(acc0, acc1));
  const auto vs = hn::Set(d, scale);
  const auto f = [&](auto vy, auto vg) {
    return hn::Mul(hn::Mul(vs, vy), hn::Sub(vg, dot));
  };
  for (i = 0; i < full; i += N)
    hn::StoreU(f(hn::LoadU(d, y + i), hn::LoadU(d, g + i)), d, g + i);
  if (r) StoreN(f(yt, gt), d, g + full, r);
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_ATTENTION_INL_H_
