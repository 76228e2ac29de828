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

#include "core/src/random.h"
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The first `count` <= kMax elements of src to dst, as copies of 1, 2, 4, ...
// elements (count's bits), each of a size the compiler knows and turns into
// moves. One memcpy of a run-time size is a libc call natively and a
// memory.copy in wasm (a call out of the compiled code), which cost more
// than a small kernel's whole remainder.
template <size_t kMax, size_t kBit = 1, typename T>
HWY_INLINE void CopyFew(T* HWY_RESTRICT dst, const T* HWY_RESTRICT src,
                        size_t count, size_t at = 0) {
  if constexpr (kBit <= kMax) {
    if (count & kBit) {
      std::memcpy(dst + at, src + at, kBit * sizeof(T));
      at += kBit;
    }
    CopyFew<kMax, 2 * kBit>(dst, src, count, at);
  }
}

// Highway 1.0.3 has no LoadN/StoreN: these load/store the first `count` <
// Lanes(d) lanes through a stack copy (padding with zero), so a kernel can
// process its remainder as one full vector without reading past the end.
template <class D, typename T = hn::TFromD<D>>
HWY_INLINE hn::Vec<D> LoadN(D d, const T* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN T buf[hn::MaxLanes(d)] = {};
  CopyFew<hn::MaxLanes(d)>(buf, p, count);
  return hn::Load(d, buf);
}
template <class D, typename T = hn::TFromD<D>>
HWY_INLINE void StoreN(hn::Vec<D> v, D d, T* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN T buf[hn::MaxLanes(d)];
  hn::Store(v, d, buf);
  CopyFew<hn::MaxLanes(d)>(p, buf, count);
}

// y[i] = f(d, x[i]) lane by lane for i < n, f a vector function: four
// independent vectors per iteration (their chains hide the latency of exp and
// division), then whole vectors, then the remainder once through
// LoadN/StoreN. y may alias x.
template <class F>
HWY_INLINE void Map(const float* x, float* y, size_t n, const F& f) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  // One induction variable against a fixed bound (i + 4N <= n kept i and
  // i + 4N in two, which V8 rotates with three moves every iteration).
  for (const size_t last = n >= 4 * N ? n - 4 * N : 0; n >= 4 * N && i <= last;
       i += 4 * N) {
    const auto v0 = f(d, hn::LoadU(d, x + i));
    const auto v1 = f(d, hn::LoadU(d, x + i + N));
    const auto v2 = f(d, hn::LoadU(d, x + i + 2 * N));
    const auto v3 = f(d, hn::LoadU(d, x + i + 3 * N));
    hn::StoreU(v0, d, y + i);
    hn::StoreU(v1, d, y + i + N);
    hn::StoreU(v2, d, y + i + 2 * N);
    hn::StoreU(v3, d, y + i + 3 * N);
  }
  for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, x + i)), d, y + i);
  if (i < n) StoreN(f(d, LoadN(d, x + i, n - i)), d, y + i, n - i);
}

// Dot product of two rows in float lanes, four accumulators, in blocks of 64
// vectors whose totals are added in double so no lane sums more than 16
// terms. Softmax's <dy, y> needs no more: its weights y sum to one.
HWY_INLINE float RowDotBlock(const float* a, const float* b, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N),
                    s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N),
                    s3);
  }
  for (; i + N <= cols; i += N)
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  if (i < cols) {
    const size_t r = cols - i;
    s1 = hn::MulAdd(LoadN(d, a + i, r), LoadN(d, b + i, r), s1);
  }
  s0 = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
  return hn::GetLane(hn::SumOfLanes(d, s0));
}

HWY_INLINE float RowDot(const float* a, const float* b, size_t cols) {
  const size_t block = 64 * hn::Lanes(hn::ScalableTag<float>());
  double total = 0;
  for (size_t i = 0; i < cols; i += block)
    total += RowDotBlock(a + i, b + i, cols - i < block ? cols - i : block);
  return static_cast<float>(total);
}

// Masked zeroing. In wasm, LLVM turns an and / andnot of a vector with a
// comparison mask into v128.bitselect, which V8 emits as three instructions;
// an empty asm statement hides where the mask came from, so a single
// v128.and / v128.andnot remains. Elsewhere these are Highway's own.
template <class D>
HWY_INLINE hn::Vec<D> MaskBits(D d, hn::Mask<D> m) {
  hn::Vec<D> v = hn::VecFromMask(d, m);
#if HWY_TARGET == HWY_WASM
  __asm__("" : "+r"(v.raw));
#endif
  return v;
}
// v as the compiler cannot see it (wasm only): a constant it would fold
// into another form. LLVM rewrites ~x & C into (x & C) ^ C (two wasm
// instructions where v128.andnot is one) and x - C into x + (-C) (a second
// constant for V8 to keep in a register beside C).
template <class V>
HWY_INLINE V Opaque(V v) {
#if HWY_TARGET == HWY_WASM
  __asm__("" : "+r"(v.raw));
#endif
  return v;
}
// mask ? 0 : v
template <class D, class V>
HWY_INLINE V ZeroIf(D d, hn::Mask<D> m, V v) {
  return hn::AndNot(MaskBits(d, m), v);
}
// mask ? v : 0
template <class D, class V>
HWY_INLINE V KeepIf(D d, hn::Mask<D> m, V v) {
  return hn::And(MaskBits(d, m), v);
}

// n = round(x log2(e)) (a float) and 2^n, for x log2(e) >= -126.5 (callers
// flush smaller x: 2^n is garbage there, and for NaN). A magic bias (1.5 *
// 2^23 + 127) rounds to nearest in the add, and leaves exactly the exponent
// field of 2^n in the low bits: no float-to-int conversion (emulated with
// about eight instructions in wasm) and no Round.
template <class D, class V>
HWY_INLINE V RoundLog2e(D d, V x, V* pow2n) {
  const hn::RebindToUnsigned<D> du;
  const V kMagic = Opaque(hn::Set(d, 0x1.8000FEp23f));
  const V biased = hn::MulAdd(x, hn::Set(d, 1.44269504088896341f), kMagic);
  *pow2n = hn::BitCast(d, hn::ShiftLeft<23>(hn::BitCast(du, biased)));
  return hn::Sub(biased, kMagic);
}

// e^x for x <= 0 (and -inf, NaN), float32. Cody-Waite range reduction
// x = n ln2 + r, |r| <= ln2/2 (RoundLog2e), then a degree-6 polynomial for
// e^r and 2^n from the exponent field. Restricting to x <= 0 drops Highway's
// overflow handling; below -87.33 the result is flushed to +0 (its true value
// is below float's normal range). Max abs error 1.2e-7 (relative ~2 ulp).
template <class D, class V>
HWY_INLINE V ExpNonPositive(D d, V x) {
  const V kLn2Hi = hn::Set(d, 0.693359375f);
  const V kLn2Lo = hn::Set(d, -2.12194440e-4f);
  const V kUnderflow = hn::Set(d, -87.33654f);
  V pow2n;
  const V n = RoundLog2e(d, x, &pow2n);
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
  const V e = hn::Mul(p, pow2n);
  // x < -87.33 (including -inf) -> +0; NaN stays NaN (comparisons are false).
  return ZeroIf(d, hn::Lt(x, kUnderflow), e);
}

// NaN-preserving clamps. Highway's Min/Max do not propagate NaN on x86 (the
// second operand wins) nor on EMU128 (the non-NaN operand wins). On x86 and
// wasm (pmin/pmax) the second operand wins, so Max(lo, x) is exactly x < lo ?
// lo : x, NaN and signed zeros included, in one instruction; elsewhere the
// clamps compare and blend.
constexpr bool kMinMaxKeepsSecondNaN = (HWY_ARCH_X86 || HWY_ARCH_WASM) &&
                                       HWY_TARGET != HWY_EMU128 &&
                                       HWY_TARGET != HWY_SCALAR;

template <class D, class V>
HWY_INLINE V ClampBelow(D d, V x, float lo) {
  if constexpr (kMinMaxKeepsSecondNaN) return hn::Max(hn::Set(d, lo), x);
  return hn::IfThenElse(hn::Lt(x, hn::Set(d, lo)), hn::Set(d, lo), x);
}
template <class D, class V>
HWY_INLINE V ClampAbove(D d, V x, float hi) {
  if constexpr (kMinMaxKeepsSecondNaN) return hn::Min(hn::Set(d, hi), x);
  return hn::IfThenElse(hn::Gt(x, hn::Set(d, hi)), hn::Set(d, hi), x);
}
// +-inf -> +-FLT_MAX, anything else unchanged: x * (a factor that underflowed
// to 0) then gives a signed zero instead of inf * 0 = NaN.
template <class D, class V>
HWY_INLINE V FiniteOrMax(D d, V x) {
  return hn::IfThenElse(hn::IsInf(x),
                        hn::CopySign(hn::Set(d, 3.40282347e38f), x), x);
}

// x f for a gate f in [0, 1] (a sigmoid, tanh of softplus) that is exactly 0
// at an infinite x: the product is then the limit's signed zero instead of
// inf * 0 = NaN (silu(-inf) = -0), while f = 1 still gives inf.
template <class D, class V>
HWY_INLINE V MulGate(D d, V x, V f) {
  return hn::Mul(hn::IfThenElse(hn::Eq(f, hn::Zero(d)), FiniteOrMax(d, x), x),
                 f);
}

// e^r - 1 = r + r^2 p(r) on [-ln2/2, ln2/2]: ExpNonPositive's polynomial
// without its final + 1, so callers can keep e^r - 1 free of cancellation.
template <class D, class V>
HWY_INLINE V ExpReducedM1(D d, V r) {
  V p = hn::Set(d, 1.9875691500e-4f);
  p = hn::MulAdd(p, r, hn::Set(d, 1.3981999507e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 8.3334519073e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 4.1665795894e-2f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.6666665459e-1f));
  p = hn::MulAdd(p, r, hn::Set(d, 5.0000001201e-1f));
  return hn::MulAdd(p, hn::Mul(r, r), r);
}
// e^x - 1 for x in [-17.5, 0] (and NaN; callers clamp), float32, with full
// relative accuracy near 0 where exp(x) - 1 would cancel. Same reduction as
// ExpNonPositive, x = n ln2 + r, and e^x - 1 = 2^n (e^r - 1) + (2^n - 1):
// e^r - 1 has no cancellation, 2^n - 1 is exact for n >= -24 (n = -25
// rounds it by half an ulp of 1) and the product by 2^n is exact (no FMA
// needed). At -17.5 the result already rounds to -1, and 2^n never
// underflows. Either zero gives +0. Max error 0.98 ulp without FMA (every
// third float of [-17.5, 0] against double expm1).
template <class D, class V>
HWY_INLINE V Expm1Clamped(D d, V x) {
  V pow2n;
  const V n = RoundLog2e(d, x, &pow2n);
  V r = hn::NegMulAdd(n, hn::Set(d, 0.693359375f), x);
  r = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f), r);
  // e^r - 1 = r + r^2 p(r), p of degree 4 (XNNPACK's rr2_p6 coefficients):
  // one term fewer than ExpReducedM1, at the same accuracy here.
  V p = hn::Set(d, 0x1.6B7338p-10f);
  p = hn::MulAdd(p, r, hn::Set(d, 0x1.12278Ep-7f));
  p = hn::MulAdd(p, r, hn::Set(d, 0x1.555716p-5f));
  p = hn::MulAdd(p, r, hn::Set(d, 0x1.5554B0p-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 0x1.FFFFFEp-2f));
  const V em1r = hn::MulAdd(p, hn::Mul(r, r), r);
  return hn::MulAdd(pow2n, em1r, hn::Sub(pow2n, hn::Set(d, 1.0f)));
}
// e^x - 1 for x <= 0 (and -inf, NaN): Expm1Clamped with x clamped below at
// -17.5 (so x < -17.5 and -inf give -1), keeping the sign of a zero input
// (expm1(-0) = -0).
template <class D, class V>
HWY_INLINE V Expm1NonPositive(D d, V x) {
  const V e = Expm1Clamped(d, ClampBelow(d, x, -17.5f));
  // The result is < 0 wherever x < 0, so or-ing in x's sign bit only fixes
  // up x = -0 (the reduction turns it into r = +0).
  return hn::Or(e, hn::And(x, hn::Set(d, -0.0f)));
}

// e^{hi + lo} for hi + lo <= 0, with hi a square from SquareSplit (or half
// of one) and |lo| small. Such an hi has at most 24 significant bits on a
// grid no finer than the reduction needs, so hi - n ln2hi is exact and lo
// enters the reduced argument afterwards: e^{-x^2} keeps full relative
// accuracy for x^2 up to 87 even without FMA (SSE4, wasm). hi + lo < -87.33
// (and -inf) gives +0; NaN propagates.
template <class D, class V>
HWY_INLINE V ExpNonPositiveHiLo(D d, V hi, V lo) {
  const V sum = hn::Add(hi, lo);
  V pow2n;
  const V n = RoundLog2e(d, sum, &pow2n);
  V r = hn::NegMulAdd(n, hn::Set(d, 0.693359375f), hi);
  r = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f), r);
  r = hn::Add(r, lo);
  const V e = hn::MulAdd(pow2n, ExpReducedM1(d, r), pow2n);
  return ZeroIf(d, hn::Lt(sum, hn::Set(d, -87.33654f)), e);
}

// a^2 = hi + lo for 0 <= a <= 16: a's significand is cut to 12 bits (ah), so
// hi = ah^2 is exact and lo = (a - ah)(a + ah) is small, with one rounding
// (relative 2^-24 of lo). Dekker's split, as in glibc's erff: no FMA needed,
// so SSE4 and wasm get the same accuracy as AVX2.
template <class D, class V>
HWY_INLINE void SquareSplit(D d, V a, V* hi, V* lo) {
  const hn::RebindToUnsigned<D> du;
  const V ah =
      hn::BitCast(d, hn::And(hn::BitCast(du, a), hn::Set(du, 0xFFFFF000u)));
  *hi = hn::Mul(ah, ah);
  *lo = hn::Mul(hn::Sub(a, ah), hn::Add(a, ah));
}

// tanh x, float32, any x, from one formula: with m = e^{-2|x|} - 1 in
// (-1, 0] (Expm1Clamped, full relative accuracy near 0), tanh(-|x|) =
// m / (2 + m). The denominator lies in [1, 2], so nothing cancels and a
// small x keeps its relative accuracy without a separate polynomial branch:
// one expm1 and one division per vector. Max error 2.5 ulp on every target
// (2.498: every float, tests/core/ulp_exhaustive.cc); tanh(+-0) = +-0,
// tanh(+-inf) = +-1 (|x| is clamped to 8.75, where m already rounds to -1), NaN
// propagates.
// The sign is bit work, no Abs, Neg or CopySign (several instructions each
// in wasm): -|x| is x with its sign bit set; m gets its sign bit set too,
// which changes only its zero (x = +-0) into -0; the quotient's sign bit is
// then flipped where x's is clear, so tanh(+0) = +0 and tanh(-0) = -0.
template <class D, class V>
HWY_INLINE V FastTanh(D d, V x) {
  const V kSign = Opaque(hn::Set(d, -0.0f));
  const V neg_abs = ClampBelow(d, hn::Or(x, kSign), -8.75f);
  const V m = hn::Or(Expm1Clamped(d, hn::Add(neg_abs, neg_abs)), kSign);
  const V t = hn::Div(m, hn::Add(m, hn::Set(d, 2.0f)));
  return hn::Xor(t, hn::AndNot(x, kSign));
}

// log(1 + u) for u in [0, 1] (and NaN), float32, max error ~1 ulp. This is
// the softplus / log-sigmoid tail log1p(e^{-|x|}). 1 + u = 2^k (1 + f) with
// k in {0, 1}; f comes straight from u (f = u, or (u - 1)/2 for u > sqrt2 -
// 1), so a tiny u keeps full relative accuracy, and log(1 + f) = f - f^2/2 +
// f^3 P(f) on [sqrt(1/2) - 1, sqrt2 - 1] (minimax, relative error 5.8e-9).
template <class D, class V>
HWY_INLINE V Log1pUnit(D d, V u) {
  const V kOne = hn::Set(d, 1.0f);
  const V kHalf = hn::Set(d, 0.5f);
  const auto big = hn::Gt(u, hn::Set(d, 0.414213562f));
  const V f = hn::IfThenElse(big, hn::Mul(hn::Sub(u, kOne), kHalf), u);
  const V k = KeepIf(d, big, kOne);
  const V f2 = hn::Mul(f, f);
  V p = hn::Set(d, -7.6346182650e-2f);
  p = hn::MulAdd(p, f, hn::Set(d, 1.2761946461e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, -1.3160313560e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, 1.4201718070e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, -1.6623340532e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, 2.0001227976e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, -2.5000821505e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, 3.3333331700e-1f));
  V r = hn::MulAdd(hn::Mul(f2, f), p, hn::Mul(k, hn::Set(d, -2.12194440e-4f)));
  r = hn::NegMulAdd(kHalf, f2, r);
  r = hn::Add(f, r);
  return hn::MulAdd(k, hn::Set(d, 0.693359375f), r);
}

// erfc(z) for 0 <= z <= 10.61 (callers clamp: erfc(10.61) underflows
// float), given z^2 = z2hi + z2lo from SquareSplit (callers that scale x into
// z scale both halves). erfc(z) = e^{-z^2} t Q(t), t = 1/(1 + z/2), Q a
// degree-10 minimax polynomial (relative error 3.7e-9 on the whole range).
// e^{-z^2} comes from ExpNonPositiveHiLo: one rounding of z^2 ~ 100 alone
// would cost 6e-6 relative. Max error 4-5 ulp relative (t's rounding is
// amplified up to 2.3x), far below an ulp of 1 - erfc. *gauss receives
// e^{-z^2}, for derivatives.
template <class D, class V>
HWY_INLINE V ErfcCore(D d, V z, V z2hi, V z2lo, V* gauss) {
  const V kOne = hn::Set(d, 1.0f);
  // t = 1/(1 + h), h = z/2: one Newton step on the quotient, which also
  // folds in the rounding of 1 + h (delta, exact). Near z = 0 an error in t
  // comes out doubled in erfc.
  const V h = hn::Mul(z, hn::Set(d, 0.5f));
  const V den = hn::Add(kOne, h);
  const V delta = hn::Add(hn::Sub(kOne, den), h);
  const V t0 = hn::Div(kOne, den);
  const V res = hn::NegMulAdd(t0, delta, hn::NegMulAdd(t0, den, kOne));
  const V t = hn::MulAdd(t0, res, t0);
  // Horner in s = t - 0.58 (t spans [0.159, 1]): the terms shrink
  // geometrically, so rounding does not pile up near t = 1 (z = 0).
  const V s = hn::Sub(t, hn::Set(d, 0.58f));
  V q = hn::Set(d, 3.6508904283e-02f);
  q = hn::MulAdd(q, s, hn::Set(d, 1.6322240960e-02f));
  q = hn::MulAdd(q, s, hn::Set(d, -7.4634432109e-02f));
  q = hn::MulAdd(q, s, hn::Set(d, 4.1673089776e-03f));
  q = hn::MulAdd(q, s, hn::Set(d, 1.1407546479e-01f));
  q = hn::MulAdd(q, s, hn::Set(d, -5.1627229862e-02f));
  q = hn::MulAdd(q, s, hn::Set(d, -2.0335235076e-01f));
  q = hn::MulAdd(q, s, hn::Set(d, 8.5147167267e-02f));
  q = hn::MulAdd(q, s, hn::Set(d, 5.8685396768e-01f));
  q = hn::MulAdd(q, s, hn::Set(d, 7.7901883269e-01f));
  q = hn::MulAdd(q, s, hn::Set(d, 5.6940872152e-01f));
  const V g = ExpNonPositiveHiLo(d, hn::Neg(z2hi), hn::Neg(z2lo));
  *gauss = g;
  return hn::Mul(g, hn::Mul(t, q));
}

// erf x, float32, any x. |x| < 1: x + x R(x^2) (minimax, relative error
// 1.2e-9 before rounding); beyond, 1 - erfc|x| with the sign of x (|x| is
// clamped to 10, where erf is 1 in float). Max error ~1 ulp; erf(+-0) = +-0,
// NaN propagates. *gauss receives e^{-x^2} (erf' = 2/sqrt(pi) e^{-x^2}).
template <class D, class V>
HWY_INLINE V Erf(D d, V x, V* gauss) {
  const V kOne = hn::Set(d, 1.0f);
  const V ax = ClampAbove(d, hn::Abs(x), 10.0f);
  const V x2 = hn::Mul(ax, ax);
  V r = hn::Set(d, 7.8538678782e-5f);
  r = hn::MulAdd(r, x2, hn::Set(d, -8.0102061302e-4f));
  r = hn::MulAdd(r, x2, hn::Set(d, 5.1883305829e-3f));
  r = hn::MulAdd(r, x2, hn::Set(d, -2.6853814504e-2f));
  r = hn::MulAdd(r, x2, hn::Set(d, 1.1283585249e-1f));
  r = hn::MulAdd(r, x2, hn::Set(d, -3.7612625840e-1f));
  r = hn::MulAdd(r, x2, hn::Set(d, 1.2837916573e-1f));
  const V small = hn::MulAdd(x, r, x);
  V hi, lo;
  SquareSplit(d, ax, &hi, &lo);
  const V big = hn::CopySign(hn::Sub(kOne, ErfcCore(d, ax, hi, lo, gauss)), x);
  return hn::IfThenElse(hn::Lt(ax, kOne), small, big);
}

// e^x for x <= 0 (and -inf, NaN), float32: a cheaper ExpNonPositive for hot
// loops (the softmax family). x = n ln2 + r as there, but n comes from adding
// a magic bias (1.5 * 2^23 + 127) whose low bits are then exactly the
// exponent field of 2^n, and e^r = 1 + r q(r) with a degree-4 minimax q
// (XNNPACK's rr2_p5 coefficients, reflected for x <= 0): about 22 operations
// without FMA (wasm, SSE4) against about 30. Max error 2.3 ulp (1.9e-7
// relative, 1.3e-7 absolute), checked against double exp on every float in
// [-87.5, 0] (AVX2 and SSE4). Below -87.34 (and -inf) the result is +0; NaN
// stays NaN.
template <class D, class V>
HWY_INLINE V ExpNonPositiveFast(D d, V x) {
  const hn::RebindToUnsigned<D> du;
  const V kMagic = hn::Set(d, 0x1.8000FEp23f);
  V n = hn::MulAdd(x, hn::Set(d, 0x1.715476p0f), kMagic);  // log2(e)
  const V pow2n = hn::BitCast(d, hn::ShiftLeft<23>(hn::BitCast(du, n)));
  n = hn::Sub(n, kMagic);
  V r = hn::NegMulAdd(n, hn::Set(d, 0x1.62E400p-1f), x);  // ln2, high part
  r = hn::NegMulAdd(n, hn::Set(d, 0x1.7F7D1Cp-20f), r);   // ln2, low part
  V q = hn::Set(d, 0x1.0F9F9Cp-7f);
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.573A1Ap-5f));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.555A80p-3f));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.FFFDC6p-2f));
  q = hn::MulAdd(q, r, hn::Set(d, 0x1.FFFFF6p-1f));
  const V e = hn::MulAdd(hn::Mul(r, pow2n), q, pow2n);
  return ZeroIf(d, hn::Lt(x, hn::Set(d, -0x1.5D589Ep6f)), e);
}

// ---------------------------------------------------------------------------
// Row and reduction helpers shared by the families.

// Largest entry, starting from -inf (an empty row gives -inf). A NaN may or
// may not win (x86 max returns its second operand on NaN): callers must not
// rely on it, and need not, because a NaN also poisons every sum of exps.
HWY_INLINE float RowMax(const float* x, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto kNegInf = hn::Set(d, -INFINITY);
  auto m0 = kNegInf, m1 = kNegInf, m2 = kNegInf, m3 = kNegInf;
  size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N) {
    m0 = hn::Max(m0, hn::LoadU(d, x + i));
    m1 = hn::Max(m1, hn::LoadU(d, x + i + N));
    m2 = hn::Max(m2, hn::LoadU(d, x + i + 2 * N));
    m3 = hn::Max(m3, hn::LoadU(d, x + i + 3 * N));
  }
  for (; i + N <= cols; i += N) m0 = hn::Max(m0, hn::LoadU(d, x + i));
  if (i < cols) {
    const size_t r = cols - i;
    m1 = hn::Max(m1,
                 hn::IfThenElse(hn::FirstN(d, r), LoadN(d, x + i, r), kNegInf));
  }
  m0 = hn::Max(hn::Max(m0, m1), hn::Max(m2, m3));
  return hn::GetLane(hn::MaxOfLanes(d, m0));
}

// sum over n of term(i, r), the vector of terms of [i, i + r) (r = Lanes
// except at the tail, whose lanes past r are masked out). Four float
// accumulators per block of 1024 values, block sums in double: relative
// error ~1e-7 whatever n, where one float accumulator drifts by n * 6e-8.
template <class D, class F>
HWY_INLINE double BlockSum(D d, size_t n, const F& term) {
  const size_t N = hn::Lanes(d);
  double total = 0;
  for (size_t start = 0; start < n; start += 1024) {
    const size_t end = start + 1024 < n ? start + 1024 : n;
    auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
    size_t i = start;
    for (; i + 4 * N <= end; i += 4 * N) {
      s0 = hn::Add(s0, term(i, N));
      s1 = hn::Add(s1, term(i + N, N));
      s2 = hn::Add(s2, term(i + 2 * N, N));
      s3 = hn::Add(s3, term(i + 3 * N, N));
    }
    for (; i < end; i += N) {
      const size_t r = end - i < N ? end - i : N;
      s0 = hn::Add(s0, hn::IfThenElseZero(hn::FirstN(d, r), term(i, r)));
    }
    const auto s = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
    total += hn::GetLane(hn::SumOfLanes(d, s));
  }
  return total;
}

// out[j] += the sum of the lanes of v[j] for j < 4, in double: the lanes
// added in float (wider vectors first folded to four lanes; four lanes
// through one transpose instead of a SumOfLanes each) and the four totals
// then added to out together. Any lane order is a float sum's order: the
// result differs from SumOfLanes' only in rounding.
template <class D>
HWY_INLINE void AddLaneSums4(D d, const hn::Vec<D> (&v)[4], double* out) {
#if HWY_TARGET == HWY_SCALAR
  for (size_t j = 0; j < 4; ++j) out[j] += hn::GetLane(v[j]);
#else
  if constexpr (hn::MaxLanes(d) > 4) {
    const hn::Half<D> dh;
    const hn::Vec<decltype(dh)> h[4] = {
        hn::Add(hn::LowerHalf(dh, v[0]), hn::UpperHalf(dh, v[0])),
        hn::Add(hn::LowerHalf(dh, v[1]), hn::UpperHalf(dh, v[1])),
        hn::Add(hn::LowerHalf(dh, v[2]), hn::UpperHalf(dh, v[2])),
        hn::Add(hn::LowerHalf(dh, v[3]), hn::UpperHalf(dh, v[3]))};
    AddLaneSums4(dh, h, out);
  } else {
    static_assert(hn::MaxLanes(d) == 4, "128-bit vectors of floats");
    // Lane j of s01 (s23): a pair of lanes of v[j % 2] (v[2 + j % 2]).
    const auto s01 = hn::Add(hn::InterleaveLower(d, v[0], v[1]),
                             hn::InterleaveUpper(d, v[0], v[1]));
    const auto s23 = hn::Add(hn::InterleaveLower(d, v[2], v[3]),
                             hn::InterleaveUpper(d, v[2], v[3]));
    HWY_ALIGN float sums[4];
    hn::Store(hn::Add(hn::ConcatLowerLower(d, s23, s01),
                      hn::ConcatUpperUpper(d, s23, s01)),
              d, sums);
    for (size_t j = 0; j < 4; ++j) out[j] += sums[j];
  }
#endif
}

// A full vector at p when r >= Lanes(d), else only the first r lanes
// (LoadN/StoreN): loops that hand their tail to the same code use these.
template <class D>
HWY_INLINE hn::Vec<D> LoadUpTo(D d, const float* p, size_t r) {
  return r >= hn::Lanes(d) ? hn::LoadU(d, p) : LoadN(d, p, r);
}
template <class D>
HWY_INLINE void StoreUpTo(D d, hn::Vec<D> v, float* p, size_t r) {
  if (r >= hn::Lanes(d)) {
    hn::StoreU(v, d, p);
  } else {
    StoreN(v, d, p, r);
  }
}

// Sum over n elements of loss(i, r), the per-element losses of [i, i + r),
// also stored into `out` when it is not null (reduction 'none'). Tail lanes
// past r are zeroed before they are summed (a padded 0 is not a zero loss
// everywhere: log 2 for logits). Blocks of 1024 are summed in float lanes
// (two accumulators) and the block sums in double.
template <class D, class F>
HWY_INLINE double SumLosses(D d, size_t n, float* out, const F& loss) {
  const size_t N = hn::Lanes(d);
  double total = 0;
  for (size_t start = 0; start < n; start += 1024) {
    const size_t end = start + 1024 < n ? start + 1024 : n;
    auto s0 = hn::Zero(d), s1 = s0;
    size_t i = start;
    for (; i + 2 * N <= end; i += 2 * N) {
      const auto v0 = loss(i, N);
      const auto v1 = loss(i + N, N);
      if (out) {
        hn::StoreU(v0, d, out + i);
        hn::StoreU(v1, d, out + i + N);
      }
      s0 = hn::Add(s0, v0);
      s1 = hn::Add(s1, v1);
    }
    for (; i < end; i += N) {
      const size_t r = end - i < N ? end - i : N;
      auto v = loss(i, r);
      if (r < N) v = hn::IfThenElseZero(hn::FirstN(d, r), v);
      if (out) StoreUpTo(d, v, out + i, r);
      s0 = hn::Add(s0, v);
    }
    total += hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  }
  return total;
}

// lowbias32 on every lane (core/src/random.h has the scalar Mix32Scalar and
// why): the counter-based generator of the seeded ops.
template <class DU, class VU>
HWY_INLINE VU Mix32(DU du, VU h) {
  h = hn::Xor(h, hn::ShiftRight<16>(h));
  h = hn::Mul(h, hn::Set(du, 0x7feb352du));
  h = hn::Xor(h, hn::ShiftRight<15>(h));
  h = hn::Mul(h, hn::Set(du, 0x846ca68bu));
  return hn::Xor(h, hn::ShiftRight<16>(h));
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_SIMD_INL_H_
