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

template <class D>
HWY_INLINE hn::Vec<D> RegLoad(D d, const float* p, size_t r) {
  return r == hn::Lanes(d) ? hn::LoadU(d, p) : LoadN(d, p, r);
}
template <class D>
HWY_INLINE void RegStore(D d, hn::Vec<D> v, float* p, size_t r) {
  if (r == hn::Lanes(d)) {
    hn::StoreU(v, d, p);
  } else {
    StoreN(v, d, p, r);
  }
}

// sum over n of f(x) for f = |x| (square = 0) or x^2 (square = 1). Four
// float accumulators per block of 1024, block sums in double: relative error
// ~1e-7 whatever n. LoadN pads with zeros, which add nothing.
HWY_NOINLINE double RegPenaltySum(const float* x, size_t n, int square) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  auto f = [&](size_t i, size_t r) {
    const auto v = RegLoad(d, x + i, r);
    return square ? hn::Mul(v, v) : hn::Abs(v);
  };
  double total = 0;
  for (size_t start = 0; start < n; start += 1024) {
    const size_t end = start + 1024 < n ? start + 1024 : n;
    auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
    size_t i = start;
    for (; i + 4 * N <= end; i += 4 * N) {
      s0 = hn::Add(s0, f(i, N));
      s1 = hn::Add(s1, f(i + N, N));
      s2 = hn::Add(s2, f(i + 2 * N, N));
      s3 = hn::Add(s3, f(i + 3 * N, N));
    }
    for (; i < end; i += N) s0 = hn::Add(s0, f(i, end - i < N ? end - i : N));
    const auto s = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
    total += hn::GetLane(hn::SumOfLanes(d, s));
  }
  return total;
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
    const auto v = RegLoad(d, x + i, r);
    const auto t = linear ? hn::Mul(vk, v)
                          : hn::Mul(vk, ZeroIf(d, hn::Eq(v, hn::Zero(d)),
                                               hn::CopySign(one, v)));
    RegStore(d, hn::Add(RegLoad(d, dx + i, r), t), dx + i, r);
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
    RegStore(d, KeepIf(d, hn::Ge(u, thr), one), mask + i, r);
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
    auto v = hn::Mul(hn::Mul(RegLoad(d, x + i, r), RegLoad(d, m + i, r)), vs);
    if (accumulate) v = hn::Add(v, RegLoad(d, y + i, r));
    RegStore(d, v, y + i, r);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_REGULARIZATION_INL_H_
