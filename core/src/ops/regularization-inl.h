// Regularization kernels (Highway): the penalties' reductions, dropout's
// counter-based mask and the scaled products the General-form ops in
// regularization.cc call through dispatch. Legend: n elements. Backward
// helpers ACCUMULATE (+=) into their gradients.
#if defined(DLMATH_OPS_REGULARIZATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_REGULARIZATION_INL_H_
#undef DLMATH_OPS_REGULARIZATION_INL_H_
#else
#define DLMATH_OPS_REGULARIZATION_INL_H_
#endif

#include <cstdint>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// sum over n of f(x) for f = |x| (square = 0) or x^2 (square = 1), by
// BlockSum (simd-inl.h).
HWY_NOINLINE double RegPenaltySum(const float* x, size_t n, int square) {
  const hn::ScalableTag<float> d;
  auto f = [&](size_t i, size_t r) {
    const auto v = LoadUpTo(d, x + i, r);
    return square ? hn::Mul(v, v) : hn::Abs(v);
  };
  return BlockSum(d, n, f);
}

// dx += k sign(x) (sign(0) = 0: the subgradient PyTorch's sign gives), or
// dx += k x with linear = 1.
HWY_NOINLINE void RegPenaltyBackward(const float* x, float* dx, size_t n,
                                     float k, int linear) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k), one = hn::Set(d, 1.0f);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    const auto v = LoadUpTo(d, x + i, r);
    const auto t = linear ? hn::Mul(vk, v)
                          : hn::Mul(vk, ZeroIf(d, hn::Eq(v, hn::Zero(d)),
                                               hn::CopySign(one, v)));
    StoreUpTo(d, hn::Add(LoadUpTo(d, dx + i, r), t), dx + i, r);
  }
}

// dropout's keep mask: mask[i] = 1 when the 24-bit uniform of (seed, i) is at
// least `threshold` = ceil(p 2^24), else 0, so P(keep) = 1 - p. The hash is
// rrelu's lowbias32 stream (activations-inl.h, RreluSlopes; the reference
// uses ref::RreluUniform): it must match ref::DropoutKeep bit for bit.

HWY_NOINLINE void DropoutMask(float* mask, size_t n, uint32_t seed,
                              float threshold) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::RebindToSigned<decltype(d)> di;
  const size_t N = hn::Lanes(d);
  const auto thr = hn::Set(d, threshold), one = hn::Set(d, 1.0f);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    const uint32_t key = Mix32Scalar(
        seed ^
        Mix32Scalar(static_cast<uint32_t>(uint64_t{i} >> 32) ^ 0x9e3779b9u));
    const auto k = hn::Set(du, key);
    const auto lo = hn::Iota(du, static_cast<uint32_t>(i));
    const auto h = Mix32(du, hn::Xor(Mix32(du, hn::Add(lo, k)), k));
    // The top 24 bits as a float are exact, and so is the threshold.
    const auto u = hn::ConvertTo(d, hn::BitCast(di, hn::ShiftRight<8>(h)));
    StoreUpTo(d, KeepIf(d, hn::Ge(u, thr), one), mask + i, r);
  }
}

// y = x m s (+ y with accumulate): dropout forward (y = x mask / (1 - p)) and
// backward (dx += dy mask / (1 - p)).
HWY_NOINLINE void DropoutApply(const float* x, const float* m, float* y,
                               size_t n, float s, int accumulate) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vs = hn::Set(d, s);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    auto v = hn::Mul(hn::Mul(LoadUpTo(d, x + i, r), LoadUpTo(d, m + i, r)), vs);
    if (accumulate) v = hn::Add(v, LoadUpTo(d, y + i, r));
    StoreUpTo(d, v, y + i, r);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_REGULARIZATION_INL_H_
