// Shared Highway building blocks for every kernel family: tails that never
// touch memory past n, and the exponential variants the kernels are built
// from. Included once per target from each <family>-inl.h.
//
// Per-target include guard (Highway idiom: the toggle flips per target).
#if defined(DLMATH_OPS_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_SIMD_INL_H_
#undef DLMATH_OPS_SIMD_INL_H_
#else
#define DLMATH_OPS_SIMD_INL_H_
#endif

#include <cstring>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Highway 1.0.3 has no LoadN/StoreN: these load/store the first `count` <
// Lanes(d) lanes through a stack copy (padding with zero), so a kernel can
// process its remainder as one full vector without reading past the end.
template <class D, typename T = hn::TFromD<D>>
HWY_INLINE hn::Vec<D> LoadN(D d, const T* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN T buf[hn::MaxLanes(d)] = {};
  std::memcpy(buf, p, count * sizeof(T));
  return hn::Load(d, buf);
}
template <class D, typename T = hn::TFromD<D>>
HWY_INLINE void StoreN(hn::Vec<D> v, D d, T* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN T buf[hn::MaxLanes(d)];
  hn::Store(v, d, buf);
  std::memcpy(p, buf, count * sizeof(T));
}

// e^x for x <= 0 (and -inf, NaN), float32. Cody-Waite range reduction
// x = n ln2 + r, |r| <= ln2/2, then a degree-6 polynomial for e^r and an
// exponent-bit build of 2^n. Restricting to x <= 0 drops Highway's overflow
// handling; below -87.33 the result is flushed to +0 (its true value is
// below float's normal range). Max abs error 1.2e-7 (relative ~2 ulp).
template <class D, class V>
HWY_INLINE V ExpNonPositive(D d, V x) {
  const hn::RebindToSigned<D> di;
  const V kLog2e = hn::Set(d, 1.44269504088896341f);
  const V kLn2Hi = hn::Set(d, 0.693359375f);
  const V kLn2Lo = hn::Set(d, -2.12194440e-4f);
  const V kUnderflow = hn::Set(d, -87.33654f);
  const V n = hn::Round(hn::Mul(x, kLog2e));
  V r = hn::NegMulAdd(n, kLn2Hi, x);
  r = hn::NegMulAdd(n, kLn2Lo, r);
  // e^r on [-ln2/2, ln2/2]: Taylor-like minimax coefficients.
  V p = hn::Set(d, 1.9875691500e-4f);
  p = hn::MulAdd(p, r, hn::Set(d, 1.3981999507e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 8.3334519073e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 4.1665795894e-2f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.6666665459e-1f));
  p = hn::MulAdd(p, r, hn::Set(d, 5.0000001201e-1f));
  const V r2 = hn::Mul(r, r);
  p = hn::MulAdd(p, r2, hn::Add(r, hn::Set(d, 1.0f)));
  // 2^n via the exponent field; n >= -126 wherever the result is kept.
  const auto ni = hn::ConvertTo(di, hn::Max(n, hn::Set(d, -126.0f)));
  const V pow2n = hn::BitCast(
      d, hn::ShiftLeft<23>(hn::Add(ni, hn::Set(di, 127))));
  const V e = hn::Mul(p, pow2n);
  // x < -87.33 (including -inf) -> +0; NaN stays NaN (comparisons are false).
  return hn::IfThenZeroElse(hn::Lt(x, kUnderflow), e);
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_SIMD_INL_H_
