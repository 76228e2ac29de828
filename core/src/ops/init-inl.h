// Initializer kernels (Highway): seeded uniform and normal fills from a
// counter-based generator, so element i of a call depends only on (seed, i)
// and any vector width gives the same values. The bits must equal
// ref::InitBits (core/ref/init.h) exactly; the float transforms then agree
// with the float64 reference to rounding. Legend: n elements.
#if defined(DLMATH_OPS_INIT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_INIT_INL_H_
#undef DLMATH_OPS_INIT_INL_H_
#else
#define DLMATH_OPS_INIT_INL_H_
#endif

#include <cstdint>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// 32 random bits of counter c: two keyed rounds (key from the seed).
template <class DU, class VU>
HWY_INLINE VU InitBitsV(DU du, VU c, uint32_t key) {
  const VU k = hn::Set(du, key);
  return Mix32(du, hn::Xor(Mix32(du, hn::Add(c, k)), k));
}
// The top 24 bits as a float in [0, 2^24) (exact).
template <class D, class VU>
HWY_INLINE hn::Vec<D> Top24(D d, VU bits) {
  const hn::RebindToSigned<D> di;
  return hn::ConvertTo(d, hn::BitCast(di, hn::ShiftRight<8>(bits)));
}

// out[i] = bound (2 u_i - 1), u_i = bits(i) / 2^32 truncated to 24 bits:
// uniform on [-bound, bound). 2u - 1 is exact; one rounding in the product.
HWY_NOINLINE void InitUniform(float* out, size_t n, uint32_t key, float bound) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const size_t N = hn::Lanes(d);
  const auto scale = hn::Set(d, 2 * bound * 0x1p-24f);
  const auto vb = hn::Set(d, bound);
  for (size_t i = 0; i < n; i += N) {
    const auto c = hn::Iota(du, static_cast<uint32_t>(i));
    const auto v = hn::MulSub(Top24(d, InitBitsV(du, c, key)), scale, vb);
    if (i + N <= n) {
      hn::StoreU(v, d, out + i);
    } else {
      StoreN(v, d, out + i, n - i);
    }
  }
}

// out[i] = sigma z_i, z standard normal by Box-Muller on the pair k = i/2:
// u1 = (top24(bits(2k)) + 1) / 2^24 in (0, 1], u2 = top24(bits(2k+1)) /
// 2^24 - 1/2 in [-1/2, 1/2), r = sqrt(-2 ln u1), z_{2k} = r cos(2 pi u2),
// z_{2k+1} = r sin(2 pi u2). |z| <= sqrt(2 ln 2^24) = 5.77. Error: Highway's
// Log (4 ulp), Sin/Cos (3 ulp) and the rounding of the angle (up to 1.2e-7
// near |theta| = pi, times r <= 5.77) bound |z - z_ref| by ~1.1e-6;
// measured max 6.5e-7 over 2^21 draws on every target, so sigma z stays
// within 2e-6 of the reference for sigma <= 3.
HWY_NOINLINE void InitNormal(float* out, size_t n, uint32_t key, float sigma) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const size_t N = hn::Lanes(d);
  const auto inv = hn::Set(d, 0x1p-24f), one = hn::Set(d, 1.0f),
             half = hn::Set(d, 0.5f), m2 = hn::Set(d, -2.0f),
             two_pi = hn::Set(d, 6.28318530717958648f), vs = hn::Set(d, sigma);
  const auto odd_bit = hn::Set(du, 1u);
  for (size_t i = 0; i < n; i += N) {
    const auto idx = hn::Iota(du, static_cast<uint32_t>(i));
    const auto c1 = hn::AndNot(odd_bit, idx);
    const auto c2 = hn::Or(c1, odd_bit);
    const auto u1 =
        hn::Mul(hn::Add(Top24(d, InitBitsV(du, c1, key)), one), inv);
    const auto u2 = hn::MulSub(Top24(d, InitBitsV(du, c2, key)), inv, half);
    const auto r = hn::Sqrt(hn::Mul(m2, hn::Log(d, u1)));
    const auto theta = hn::Mul(two_pi, u2);
    const auto even =
        hn::RebindMask(d, hn::Eq(hn::And(idx, odd_bit), hn::Zero(du)));
    const auto z =
        hn::Mul(r, hn::IfThenElse(even, hn::Cos(d, theta), hn::Sin(d, theta)));
    const auto v = hn::Mul(z, vs);
    if (i + N <= n) {
      hn::StoreU(v, d, out + i);
    } else {
      StoreN(v, d, out + i, n - i);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_INIT_INL_H_
