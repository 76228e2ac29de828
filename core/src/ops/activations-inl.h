// Elementwise activation kernels (Highway), one forward/backward pair per
// registry row, forward first. Legend: n elements. Row-wise activations live
// in rowwise-inl.h.
//
// Every backward ACCUMULATES (+=) into dx (and dp for learnable params); the
// caller zeroes them once per step. Error bounds below are in float ulp of
// the result, measured against the float64 references; results smaller than
// ~1e-36 in magnitude may flush to a signed zero (ExpNonPositive flushes
// below e^-87.3).
#if defined(DLMATH_OPS_ACTIVATIONS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_ACTIVATIONS_INL_H_
#undef DLMATH_OPS_ACTIVATIONS_INL_H_
#else
#define DLMATH_OPS_ACTIVATIONS_INL_H_
#endif

#include <cmath>
#include <cstdint>

#include "core/src/ops/simd-inl.h"
#include "dlmath/registry.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------
// Elementwise drivers: Map (simd-inl.h) applies f(d, x) forward; MapBackward
// applies g(d, x, y, dy) (backward, returns the dx contribution) over n
// floats, four vectors per iteration (independent chains hide the latency of
// exp and division), then whole vectors, then the remainder once through
// LoadN/StoreN. In place (y == x) is fine.
// The vectors of an iteration are addressed from its first element (x + i):
// in wasm the offsets k N then sit in the loads and stores, where indices i
// + k N cost an address computation per array and vector. (Pointers bumped
// each iteration cost V8 a register move per array instead.)

template <class G>
HWY_INLINE void MapBackward(const float* x, const float* y, const float* dy,
                            float* dx, size_t n, const G& g) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  // dx plus g's contribution, k vectors past element e.
  const auto at = [&](size_t e, size_t k) {
    const size_t j = k * N;
    return hn::Add(hn::LoadU(d, dx + e + j),
                   g(d, hn::LoadU(d, x + e + j), hn::LoadU(d, y + e + j),
                     hn::LoadU(d, dy + e + j)));
  };
  // One induction variable against a fixed bound (as Map).
  for (const size_t last = n >= 4 * N ? n - 4 * N : 0; n >= 4 * N && i <= last;
       i += 4 * N) {
    const auto s0 = at(i, 0), s1 = at(i, 1), s2 = at(i, 2), s3 = at(i, 3);
    float* out = dx + i;
    hn::StoreU(s0, d, out);
    hn::StoreU(s1, d, out + N);
    hn::StoreU(s2, d, out + 2 * N);
    hn::StoreU(s3, d, out + 3 * N);
  }
  for (; i + N <= n; i += N) hn::StoreU(at(i, 0), d, dx + i);
  if (i < n) {
    const size_t r = n - i;
    const auto gi =
        g(d, LoadN(d, x + i, r), LoadN(d, y + i, r), LoadN(d, dy + i, r));
    StoreN(hn::Add(LoadN(d, dx + i, r), gi), d, dx + i, r);
  }
}

// As Map/MapBackward, but f/g also get the index of the vector's first
// element (a multiple of Lanes, so its lanes never straddle 2^32): for ops
// whose value depends on the element's position (rrelu's counter-based RNG).
template <class F>
HWY_INLINE void MapForwardIndexed(const float* x, float* y, size_t n,
                                  const F& f) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto v0 = f(d, hn::LoadU(d, x + i), i);
    const auto v1 = f(d, hn::LoadU(d, x + i + N), i + N);
    hn::StoreU(v0, d, y + i);
    hn::StoreU(v1, d, y + i + N);
  }
  for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, x + i), i), d, y + i);
  if (i < n) StoreN(f(d, LoadN(d, x + i, n - i), i), d, y + i, n - i);
}

template <class G>
HWY_INLINE void MapBackwardIndexed(const float* x, const float* dy, float* dx,
                                   size_t n, const G& g) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto gi = g(d, hn::LoadU(d, x + i), hn::LoadU(d, dy + i), i);
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i), gi), d, dx + i);
  }
  if (i < n) {
    const size_t r = n - i;
    const auto gi = g(d, LoadN(d, x + i, r), LoadN(d, dy + i, r), i);
    StoreN(hn::Add(LoadN(d, dx + i, r), gi), d, dx + i, r);
  }
}

// As MapBackward, for an op with one learnable parameter: g(d, x, y, dy, &t)
// returns the dx contribution and sets t to the lanes' d/dparam terms (already
// times dy). The terms are summed in float over blocks of kSumBlock elements,
// then in double: a float sum over 2^20 terms would lose ~3 digits. Returns
// the sum; padded tail lanes are masked out.
template <class G>
HWY_INLINE double MapBackwardSum(const float* x, const float* y,
                                 const float* dy, float* dx, size_t n,
                                 const G& g) {
  constexpr size_t kSumBlock = 512;
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  double total = 0;
  size_t i = 0;
  while (i + N <= n) {
    const size_t end = HWY_MIN(n, i + kSumBlock);
    auto acc0 = hn::Zero(d), acc1 = hn::Zero(d);
    for (; i + 2 * N <= end; i += 2 * N) {
      decltype(acc0) t0, t1;
      const auto g0 = g(d, hn::LoadU(d, x + i), hn::LoadU(d, y + i),
                        hn::LoadU(d, dy + i), &t0);
      const auto g1 = g(d, hn::LoadU(d, x + i + N), hn::LoadU(d, y + i + N),
                        hn::LoadU(d, dy + i + N), &t1);
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i + N), g1), d, dx + i + N);
      acc0 = hn::Add(acc0, t0);
      acc1 = hn::Add(acc1, t1);
    }
    for (; i + N <= end; i += N) {
      decltype(acc0) t0;
      const auto g0 = g(d, hn::LoadU(d, x + i), hn::LoadU(d, y + i),
                        hn::LoadU(d, dy + i), &t0);
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
      acc0 = hn::Add(acc0, t0);
    }
    total += hn::GetLane(hn::SumOfLanes(d, hn::Add(acc0, acc1)));
  }
  if (i < n) {
    const size_t r = n - i;
    decltype(hn::Zero(d)) t0;
    const auto g0 =
        g(d, LoadN(d, x + i, r), LoadN(d, y + i, r), LoadN(d, dy + i, r), &t0);
    StoreN(hn::Add(LoadN(d, dx + i, r), g0), d, dx + i, r);
    total += hn::GetLane(
        hn::SumOfLanes(d, hn::IfThenElseZero(hn::FirstN(d, r), t0)));
  }
  return total;
}

// value where x is not NaN, else a NaN (all bits set): piecewise derivatives
// (relu' and the like) give NaN at NaN, as every smooth one does. PyTorch
// passes dy through there instead; a NaN that reaches the gradient is easier
// to find. An or with the NaN mask, not a blend (three instructions in wasm).
template <class V>
HWY_INLINE V KeepNaN(V x, V value) {
  const hn::DFromV<V> d;
  return hn::Or(value, MaskBits(d, hn::IsNaN(x)));
}

// ---------------------------------------------------------------------------
// sigmoid. y = 1 / (1 + e^-x), any x. Computed from e = e^{-|x|} <= 1 so exp
// never overflows: sigma = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, as one
// division of a blended numerator. e comes from ExpNonPositiveFast (2.3 ulp).
// Error <= 2e-7 absolute. Backward uses the saved y, sigma' = y (1 - y), as
// PyTorch's sigmoid_backward does: memory-bound instead of an exp and a
// division per element. Absolute error <= 1.2e-7; for x > 17 the float
// 1 - y rounds to 0, so there the tiny true slope (< 4e-8) is not resolved.
// SigmoidParts (the same sigmoid with e and 1/(1+e) for the ops built on it)
// uses the degree-6 ExpNonPositive.

template <class D, class V>
HWY_INLINE V SigmoidParts(D d, V x, V* e_out, V* s_out) {
  const V e = ExpNonPositive(d, hn::Neg(hn::Abs(x)));
  const V s = hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), e));
  *e_out = e;
  *s_out = s;
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(e, s), s);
}

// e^{-|x|}: -|x| is x with its sign bit set (one or).
template <class D, class V>
HWY_INLINE V ExpNegAbs(D d, V x) {
  return ExpNonPositiveFast(d, hn::Or(x, hn::Set(d, -0.0f)));
}

HWY_NOINLINE void SigmoidForward(const float* x, float* y, size_t n,
                                 const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    const auto kOne = hn::Set(d, 1.0f);
    const auto e = ExpNegAbs(d, v);
    const auto num = hn::IfThenElse(hn::Lt(v, hn::Zero(d)), e, kOne);
    return hn::Div(num, hn::Add(kOne, e));
  });
}

HWY_NOINLINE void SigmoidBackward(const float* x, const float* y,
                                  const float* dy, float* dx, double* /*dp*/,
                                  size_t n, const double* /*p*/) {
  MapBackward(x, y, dy, dx, n, [](auto d, auto, auto yv, auto g) {
    return hn::Mul(g, hn::NegMulAdd(yv, yv, yv));  // g * (y - y^2)
  });
}

// ---------------------------------------------------------------------------
// tanh. y = tanh x, any x, via FastTanh (simd-inl.h): max error 2.5 ulp,
// tanh(+-0) = +-0, tanh(+-inf) = +-1. Backward uses the saved y: tanh' =
// 1 - y^2, absolute error <= 2.4e-7.

HWY_NOINLINE void TanhForward(const float* x, float* y, size_t n,
                              const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) { return FastTanh(d, v); });
}

HWY_NOINLINE void TanhBackward(const float* x, const float* y, const float* dy,
                               float* dx, double* /*dp*/, size_t n,
                               const double* /*p*/) {
  MapBackward(x, y, dy, dx, n, [](auto d, auto, auto t, auto g) {
    return hn::Mul(g, hn::NegMulAdd(t, t, hn::Set(d, 1.0f)));
  });
}

// ---------------------------------------------------------------------------
// relu. y = max(x, 0), exact. Zeroes where x <= 0, so relu(-0) = +0 and NaN
// stays NaN. relu'(0) = 0.

// Where Max(0, x) keeps a NaN x (kMinMaxKeepsSecondNaN) it is x < 0 ? 0 : x,
// and adding +0 turns its -0 into +0: two instructions and no mask.
template <class D, class V>
HWY_INLINE V Relu(D d, V x) {
  if constexpr (kMinMaxKeepsSecondNaN) {
    return hn::Add(hn::Max(hn::Zero(d), x), hn::Zero(d));
  }
  return ZeroIf(d, hn::Le(x, hn::Zero(d)), x);
}

HWY_NOINLINE void ReluForward(const float* x, float* y, size_t n,
                              const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) { return Relu(d, v); });
}

HWY_NOINLINE void ReluBackward(const float* x, const float* /*y*/,
                               const float* dy, float* dx, double* /*dp*/,
                               size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    return KeepNaN(v, KeepIf(d, hn::Gt(v, hn::Zero(d)), g));
  });
}

// ---------------------------------------------------------------------------
// leaky_relu. y = x for x > 0, else negative_slope * x (so -0 -> -0), exact
// up to the rounding of the product. Derivative at 0: the slope (PyTorch).
// Also the eval mode of rrelu.

HWY_INLINE void LeakyForward(const float* x, float* y, size_t n, float slope) {
  if (slope > 0 && slope <= 1) {
    // Then slope x is never NaN for a non-NaN x, and max(x, slope x) is the
    // right branch on either side of 0 (rounding is monotone).
    Map(x, y, n, [slope](auto d, auto v) {
      return hn::Max(hn::Mul(v, hn::Set(d, slope)), v);
    });
    return;
  }
  Map(x, y, n, [slope](auto d, auto v) {
    return hn::IfThenElse(hn::Gt(v, hn::Zero(d)), v,
                          hn::Mul(v, hn::Set(d, slope)));
  });
}
HWY_INLINE void LeakyBackward(const float* x, const float* dy, float* dx,
                              size_t n, float slope) {
  MapBackward(x, x, dy, dx, n, [slope](auto d, auto v, auto, auto g) {
    const auto k = hn::IfThenElse(hn::Gt(v, hn::Zero(d)), hn::Set(d, 1.0f),
                                  hn::Set(d, slope));
    return KeepNaN(v, hn::Mul(g, k));
  });
}

HWY_NOINLINE void LeakyReluForward(const float* x, float* y, size_t n,
                                   const double* p) {
  LeakyForward(x, y, n,
               static_cast<float>(p[DLMATH_PARAM(leaky_relu, negative_slope)]));
}

HWY_NOINLINE void LeakyReluBackward(const float* x, const float* /*y*/,
                                    const float* dy, float* dx, double* /*dp*/,
                                    size_t n, const double* p) {
  LeakyBackward(
      x, dy, dx, n,
      static_cast<float>(p[DLMATH_PARAM(leaky_relu, negative_slope)]));
}

// ---------------------------------------------------------------------------
// rrelu, params lower, upper, training, seed. Eval: leaky_relu with slope
// (lower + upper)/2. Training: element i with x <= 0 gets the slope lower +
// (upper - lower) u_i, u_i in [0, 1) from a counter-based hash of (seed, i)
// (RreluBits; must equal ref::RreluBits bit for bit), so nothing is saved
// for backward: it recomputes the same slope. i counts from the start of
// the call.

// Slopes of the lanes of the vector starting at element i.
template <class D>
HWY_INLINE hn::Vec<D> RreluSlopes(D d, size_t i, uint32_t seed, float lower,
                                  float width) {
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  // Per-stream key from the seed and the high half of i (constant over a
  // vector); then two rounds over the low half.
  const uint32_t key =
      Mix32Scalar(seed ^ Mix32Scalar(static_cast<uint32_t>(uint64_t{i} >> 32) ^
                                     0x9e3779b9u));
  const auto lo = hn::Iota(du, static_cast<uint32_t>(i));
  const auto k = hn::Set(du, key);
  const auto h = Mix32(du, hn::Xor(Mix32(du, hn::Add(lo, k)), k));
  // Top 24 bits -> [0, 1), exactly.
  const auto u =
      hn::Mul(hn::ConvertTo(d, hn::BitCast(di, hn::ShiftRight<8>(h))),
              hn::Set(d, 5.9604644775390625e-8f));
  return hn::MulAdd(u, hn::Set(d, width), hn::Set(d, lower));
}

struct RreluParams {
  bool training;
  float eval_slope, lower, width;
  uint32_t seed;
};
HWY_INLINE RreluParams RreluOf(const double* p) {
  const double lower = p[DLMATH_PARAM(rrelu, lower)];
  const double upper = p[DLMATH_PARAM(rrelu, upper)];
  return {p[DLMATH_PARAM(rrelu, training)] != 0,
          static_cast<float>(0.5 * (lower + upper)), static_cast<float>(lower),
          static_cast<float>(upper - lower),
          static_cast<uint32_t>(p[DLMATH_PARAM(rrelu, seed)])};
}

HWY_NOINLINE void RreluForward(const float* x, float* y, size_t n,
                               const double* p) {
  const RreluParams r = RreluOf(p);
  if (!r.training) {
    LeakyForward(x, y, n, r.eval_slope);
    return;
  }
  const float lower = r.lower, width = r.width;
  const uint32_t seed = r.seed;
  MapForwardIndexed(x, y, n, [=](auto d, auto v, size_t i) {
    const auto slope = RreluSlopes(d, i, seed, lower, width);
    return hn::IfThenElse(hn::Gt(v, hn::Zero(d)), v, hn::Mul(v, slope));
  });
}

HWY_NOINLINE void RreluBackward(const float* x, const float* /*y*/,
                                const float* dy, float* dx, double* /*dp*/,
                                size_t n, const double* p) {
  const RreluParams r = RreluOf(p);
  if (!r.training) {
    LeakyBackward(x, dy, dx, n, r.eval_slope);
    return;
  }
  const float lower = r.lower, width = r.width;
  const uint32_t seed = r.seed;
  MapBackwardIndexed(x, dy, dx, n, [=](auto d, auto v, auto g, size_t i) {
    const auto slope = RreluSlopes(d, i, seed, lower, width);
    const auto k =
        hn::IfThenElse(hn::Gt(v, hn::Zero(d)), hn::Set(d, 1.0f), slope);
    return KeepNaN(v, hn::Mul(g, k));
  });
}

// ---------------------------------------------------------------------------
// elu, selu, celu: y = scale x for x > 0, else scale alpha expm1(x / s)
// (elu: scale 1, s 1; selu: fixed scale and alpha, s 1; celu: scale 1,
// s = alpha). Expm1NonPositive keeps relative accuracy near 0 and -0 -> -0;
// max error ~2 ulp, -inf -> -scale alpha. Backward recomputes e^{x/s}
// (ExpNonPositiveFast, 2.3 ulp):
// derivative alpha e^{x/s} / s * scale on x <= 0 (PyTorch's side at 0).

struct EluCoeffs {
  float scale, alpha, inv_s;
};

HWY_INLINE void EluForwardImpl(const float* x, float* y, size_t n,
                               EluCoeffs c) {
  Map(x, y, n, [c](auto d, auto v) {
    // No select: scale max(x, 0) + scale alpha expm1(min(x, 0) / s), where
    // one of the two terms is a zero (both -0 at x = -0, so elu(-0) = -0);
    // the clamps keep NaN.
    const auto neg = hn::Mul(ClampAbove(d, v, 0.0f), hn::Set(d, c.inv_s));
    const auto em1 = Expm1NonPositive(d, neg);
    return hn::MulAdd(ClampBelow(d, v, 0.0f), hn::Set(d, c.scale),
                      hn::Mul(em1, hn::Set(d, c.scale * c.alpha)));
  });
}
HWY_INLINE void EluBackwardImpl(const float* x, const float* dy, float* dx,
                                size_t n, EluCoeffs c) {
  MapBackward(x, x, dy, dx, n, [c](auto d, auto v, auto, auto g) {
    const auto pos = hn::Gt(v, hn::Zero(d));
    // e^{x/s} is only kept where x <= 0 (or NaN): no clamp needed.
    const auto slope =
        hn::Mul(ExpNonPositiveFast(d, hn::Mul(v, hn::Set(d, c.inv_s))),
                hn::Set(d, c.scale * c.alpha * c.inv_s));
    return hn::Mul(g, hn::IfThenElse(pos, hn::Set(d, c.scale), slope));
  });
}

// elu's coefficients for alpha, and celu's (s = alpha).
HWY_INLINE EluCoeffs EluOf(double alpha) {
  return {1.0f, static_cast<float>(alpha), 1.0f};
}
HWY_INLINE EluCoeffs CeluOf(double alpha) {
  return {1.0f, static_cast<float>(alpha), static_cast<float>(1 / alpha)};
}

HWY_NOINLINE void EluForward(const float* x, float* y, size_t n,
                             const double* p) {
  EluForwardImpl(x, y, n, EluOf(p[DLMATH_PARAM(elu, alpha)]));
}

HWY_NOINLINE void EluBackward(const float* x, const float* /*y*/,
                              const float* dy, float* dx, double* /*dp*/,
                              size_t n, const double* p) {
  EluBackwardImpl(x, dy, dx, n, EluOf(p[DLMATH_PARAM(elu, alpha)]));
}

// PyTorch's constants (Klambauer et al. 2017), rounded to float.
constexpr EluCoeffs kSelu = {1.0507009873554804934f, 1.6732632423543772848f,
                             1.0f};

HWY_NOINLINE void SeluForward(const float* x, float* y, size_t n,
                              const double* /*p*/) {
  EluForwardImpl(x, y, n, kSelu);
}

HWY_NOINLINE void SeluBackward(const float* x, const float* /*y*/,
                               const float* dy, float* dx, double* /*dp*/,
                               size_t n, const double* /*p*/) {
  EluBackwardImpl(x, dy, dx, n, kSelu);
}

HWY_NOINLINE void CeluForward(const float* x, float* y, size_t n,
                              const double* p) {
  EluForwardImpl(x, y, n, CeluOf(p[DLMATH_PARAM(celu, alpha)]));
}

HWY_NOINLINE void CeluBackward(const float* x, const float* /*y*/,
                               const float* dy, float* dx, double* /*dp*/,
                               size_t n, const double* p) {
  EluBackwardImpl(x, dy, dx, n, CeluOf(p[DLMATH_PARAM(celu, alpha)]));
}

// ---------------------------------------------------------------------------
// gelu_erf. y = x Phi(x), Phi the normal CDF = erfc(-x/sqrt2)/2, computed
// from the tail mass h = erfc(|x|/sqrt2)/2 (ErfcCore): Phi = h for x < 0 and
// 1 - h otherwise, so the left tail keeps its relative accuracy (1 + erf
// would cancel). |x| is clamped to 15, where h underflows; gelu(-inf) = -0.
// Max error ~6 ulp. Backward: Phi + x phi(x), phi = e^{-x^2/2}/sqrt(2 pi)
// from the same exponential.

template <class D, class V>
HWY_INLINE V GeluErfParts(D d, V x, V* xc_out, V* gauss) {
  const V xc = ClampBelow(d, ClampAbove(d, x, 15.0f), -15.0f);
  const V ax = hn::Abs(xc);
  V hi, lo;
  SquareSplit(d, ax, &hi, &lo);
  const V kHalf = hn::Set(d, 0.5f);
  const V z = hn::Mul(ax, hn::Set(d, 0.70710678118654752f));
  const V h = hn::Mul(
      kHalf, ErfcCore(d, z, hn::Mul(hi, kHalf), hn::Mul(lo, kHalf), gauss));
  *xc_out = xc;
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), h,
                        hn::Sub(hn::Set(d, 1.0f), h));
}

HWY_NOINLINE void GeluErfForward(const float* x, float* y, size_t n,
                                 const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    decltype(v) xc, g;
    const auto cdf = GeluErfParts(d, v, &xc, &g);
    return hn::Mul(ClampBelow(d, v, -15.0f), cdf);
  });
}

HWY_NOINLINE void GeluErfBackward(const float* x, const float* /*y*/,
                                  const float* dy, float* dx, double* /*dp*/,
                                  size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) xc, gauss;
    const auto cdf = GeluErfParts(d, v, &xc, &gauss);
    const auto pdf = hn::Mul(gauss, hn::Set(d, 0.39894228040143267794f));
    return hn::Mul(g, hn::MulAdd(xc, pdf, cdf));
  });
}

// ---------------------------------------------------------------------------
// gelu_tanh. y = x (1 + tanh u)/2, u = sqrt(2/pi) (x + 0.044715 x^3), as
// x sigma(2u) with sigma from e = e^{-2|u|}: one exp, one division, and the
// left tail keeps its relative accuracy (1 + tanh u would cancel). The cubic
// may overflow to inf for |x| > 1e12, which only makes e = 0. Error ~2 ulp
// for x >= 0; for x < 0 the float rounding of 2u (relative ~2e-7) becomes a
// relative error of y of ~2e-7 |2u|: 9 ulp on [-2, 0], ~50 ulp near x = -5
// where |y| < 1e-5 (absolute error < 1e-11). gelu_tanh(-inf) = -0. Backward:
// sigma + x sigma'(2u) 2u', with sigma'(w) = e/(1+e)^2 and x clamped to 20
// (where e is already 0).

template <class D, class V>
HWY_INLINE V GeluTanhParts(D d, V x, V* e_out, V* s_out) {
  const V x2 = hn::Mul(x, x);
  const V two_u =
      hn::Mul(hn::Mul(x, hn::Set(d, 1.5957691216057308f)),
              hn::MulAdd(x2, hn::Set(d, 0.044715f), hn::Set(d, 1.0f)));
  const V e = ExpNonPositive(d, hn::Neg(hn::Abs(two_u)));
  const V s = hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), e));
  *e_out = e;
  *s_out = s;
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(e, s), s);
}

HWY_NOINLINE void GeluTanhForward(const float* x, float* y, size_t n,
                                  const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    decltype(v) e, s;
    return MulGate(d, v, GeluTanhParts(d, v, &e, &s));
  });
}

HWY_NOINLINE void GeluTanhBackward(const float* x, const float* /*y*/,
                                   const float* dy, float* dx, double* /*dp*/,
                                   size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) e, s;
    const auto sig = GeluTanhParts(d, v, &e, &s);
    const auto xc = ClampBelow(d, ClampAbove(d, v, 20.0f), -20.0f);
    // d(2u)/dx = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    const auto du2 = hn::Mul(
        hn::Set(d, 1.5957691216057308f),
        hn::MulAdd(hn::Mul(xc, xc), hn::Set(d, 0.134145f), hn::Set(d, 1.0f)));
    const auto dsig = hn::Mul(e, hn::Mul(s, s));
    return hn::Mul(g, hn::MulAdd(hn::Mul(xc, dsig), du2, sig));
  });
}

// ---------------------------------------------------------------------------
// silu. y = x sigma(x) with SigmoidParts (e = e^{-|x|}): one exp, one
// division, error ~3.5 ulp, relative accuracy in the left tail; silu(-inf) =
// -0 (x is taken as -FLT_MAX so 0 * x is not NaN). Backward: sigma + x
// sigma', sigma' = e/(1+e)^2, recomputed.

HWY_NOINLINE void SiluForward(const float* x, float* y, size_t n,
                              const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    decltype(v) e, s;
    return MulGate(d, v, SigmoidParts(d, v, &e, &s));
  });
}

HWY_NOINLINE void SiluBackward(const float* x, const float* /*y*/,
                               const float* dy, float* dx, double* /*dp*/,
                               size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) e, s;
    const auto sig = SigmoidParts(d, v, &e, &s);
    const auto xe = hn::Mul(FiniteOrMax(d, v), e);
    return hn::Mul(g, hn::MulAdd(xe, hn::Mul(s, s), sig));
  });
}

// ---------------------------------------------------------------------------
// swish_beta. y = x sigma(beta x), beta learnable. As silu with
// t = beta x. Backward: dx += dy (sigma(t) + t sigma'(t)); dbeta += sum dy x^2
// sigma'(t), summed by MapBackwardSum (float blocks, then double).

HWY_NOINLINE void SwishBetaForward(const float* x, float* y, size_t n,
                                   const double* p) {
  const float beta = static_cast<float>(p[DLMATH_PARAM(swish_beta, beta)]);
  Map(x, y, n, [beta](auto d, auto v) {
    decltype(v) e, s;
    const auto sig = SigmoidParts(d, hn::Mul(v, hn::Set(d, beta)), &e, &s);
    return MulGate(d, v, sig);
  });
}

HWY_NOINLINE void SwishBetaBackward(const float* x, const float* y,
                                    const float* dy, float* dx, double* dp,
                                    size_t n, const double* p) {
  const int k = DLMATH_PARAM(swish_beta, beta);
  const float beta = static_cast<float>(p[k]);
  dp[k] += MapBackwardSum(x, y, dy, dx, n,
                          [beta](auto d, auto v, auto, auto g, auto* dbeta) {
                            decltype(v) e, s;
                            const auto t = hn::Mul(v, hn::Set(d, beta));
                            const auto sig = SigmoidParts(d, t, &e, &s);
                            const auto s2 = hn::Mul(s, s);
                            // x e and t e stay finite (e = 0 wherever x or t is
                            // huge or infinite).
                            const auto xc = FiniteOrMax(d, v);
                            const auto xe = hn::Mul(xc, e);
                            *dbeta = hn::Mul(g, hn::Mul(xe, hn::Mul(xc, s2)));
                            const auto te = hn::Mul(FiniteOrMax(d, t), e);
                            return hn::Mul(g, hn::MulAdd(te, s2, sig));
                          });
}

// ---------------------------------------------------------------------------
// mish. y = x tanh(softplus x). With e = e^{-|x|}, tanh(log(1 + e^x)) =
// N/D: N = 1 + 2e, D = N + 2e^2 for x >= 0 and N = e^2 + 2e, D = N + 2 for
// x < 0 (exact rearrangements, no cancellation, exp never overflows): one
// exp, one division, error ~4 ulp; mish(-inf) = -0. Backward: mish' =
// N/D + 4 x k (1 + e)/D^2 with k = e^2 (x >= 0) or e (x < 0), the same
// rearrangement of tanh(sp) + x sech^2(sp) sigma(x).

template <class D, class V>
HWY_INLINE V MishParts(D d, V x, V* r_out, V* k_out, V* e_out) {
  const V kOne = hn::Set(d, 1.0f);
  const V kTwo = hn::Set(d, 2.0f);
  const auto neg = hn::Lt(x, hn::Zero(d));
  const V e = ExpNonPositive(d, hn::Neg(hn::Abs(x)));
  const V e2 = hn::Mul(e, e);
  const V num = hn::MulAdd(kTwo, e, hn::IfThenElse(neg, e2, kOne));
  const V den = hn::Add(num, hn::IfThenElse(neg, kTwo, hn::Mul(kTwo, e2)));
  const V r = hn::Div(kOne, den);
  *r_out = r;
  *k_out = hn::IfThenElse(neg, e, e2);
  *e_out = e;
  return hn::Mul(num, r);
}

HWY_NOINLINE void MishForward(const float* x, float* y, size_t n,
                              const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    decltype(v) r, k, e;
    return MulGate(d, v, MishParts(d, v, &r, &k, &e));
  });
}

HWY_NOINLINE void MishBackward(const float* x, const float* /*y*/,
                               const float* dy, float* dx, double* /*dp*/,
                               size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) r, k, e;
    const auto tsp = MishParts(d, v, &r, &k, &e);
    // x k first: k = 0 wherever x is huge (FLT_MAX * 4 would be inf).
    const auto xk = hn::Mul(hn::Mul(FiniteOrMax(d, v), k), hn::Set(d, 4.0f));
    const auto corr =
        hn::Mul(hn::Mul(xk, hn::Add(hn::Set(d, 1.0f), e)), hn::Mul(r, r));
    return hn::Mul(g, hn::Add(tsp, corr));
  });
}

// ---------------------------------------------------------------------------
// softplus, params beta, threshold. y = x where beta x > threshold (PyTorch),
// else log(1 + e^{beta x})/beta = (max(t, 0) + log1p(e^{-|t|}))/beta, t =
// beta x: exp never overflows and Log1pUnit keeps the left tail's relative
// accuracy. One exp, no division; error ~2 ulp. softplus(-inf) = +0.
// Backward: sigma(beta x) (1 above the threshold).

HWY_NOINLINE void SoftplusForward(const float* x, float* y, size_t n,
                                  const double* p) {
  const double beta_d = p[DLMATH_PARAM(softplus, beta)];
  const float beta = static_cast<float>(beta_d);
  const float inv_beta = static_cast<float>(1 / beta_d);
  const float threshold =
      static_cast<float>(p[DLMATH_PARAM(softplus, threshold)]);
  Map(x, y, n, [=](auto d, auto v) {
    const auto t = hn::Mul(v, hn::Set(d, beta));
    const auto e = ExpNonPositive(d, hn::Neg(hn::Abs(t)));
    const auto pos = ZeroIf(d, hn::Le(t, hn::Zero(d)), t);
    const auto sp =
        hn::Mul(hn::Add(pos, Log1pUnit(d, e)), hn::Set(d, inv_beta));
    return hn::IfThenElse(hn::Gt(t, hn::Set(d, threshold)), v, sp);
  });
}

HWY_NOINLINE void SoftplusBackward(const float* x, const float* /*y*/,
                                   const float* dy, float* dx, double* /*dp*/,
                                   size_t n, const double* p) {
  const float beta = static_cast<float>(p[DLMATH_PARAM(softplus, beta)]);
  const float threshold =
      static_cast<float>(p[DLMATH_PARAM(softplus, threshold)]);
  MapBackward(x, x, dy, dx, n, [=](auto d, auto v, auto, auto g) {
    const auto t = hn::Mul(v, hn::Set(d, beta));
    decltype(v) e, s;
    const auto sig = SigmoidParts(d, t, &e, &s);
    return hn::IfThenElse(hn::Gt(t, hn::Set(d, threshold)), g, hn::Mul(g, sig));
  });
}

// ---------------------------------------------------------------------------
// softsign. y = x/(1 + |x|), one division, 1 ulp; +-inf -> +-1 (x is clamped
// to +-FLT_MAX). Backward: 1/(1 + |x|)^2, as dy / (1 + |x|)^2 (which is 0
// where the square overflows: the true value is below 3e-39 there).

HWY_NOINLINE void SoftsignForward(const float* x, float* y, size_t n,
                                  const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    const auto xc =
        ClampAbove(d, ClampBelow(d, v, -3.40282347e38f), 3.40282347e38f);
    return hn::Div(xc, hn::Add(hn::Set(d, 1.0f), hn::Abs(xc)));
  });
}

HWY_NOINLINE void SoftsignBackward(const float* x, const float* /*y*/,
                                   const float* dy, float* dx, double* /*dp*/,
                                   size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    const auto den = hn::Add(hn::Set(d, 1.0f), hn::Abs(v));
    return hn::Div(g, hn::Mul(den, den));
  });
}

// ---------------------------------------------------------------------------
// hardtanh (params min_val, max_val) and relu6: clamps, exact, NaN kept
// (compare-and-blend clamps). Derivative 1 strictly inside, 0 on and beyond
// the bounds (PyTorch).

HWY_INLINE void ClampBackward(const float* x, const float* dy, float* dx,
                              size_t n, float lo, float hi) {
  MapBackward(x, x, dy, dx, n, [=](auto d, auto v, auto, auto g) {
    const auto inside =
        hn::And(hn::Gt(v, hn::Set(d, lo)), hn::Lt(v, hn::Set(d, hi)));
    return KeepNaN(v, KeepIf(d, inside, g));
  });
}

HWY_NOINLINE void HardtanhForward(const float* x, float* y, size_t n,
                                  const double* p) {
  const float lo = static_cast<float>(p[DLMATH_PARAM(hardtanh, min_val)]);
  const float hi = static_cast<float>(p[DLMATH_PARAM(hardtanh, max_val)]);
  Map(x, y, n,
      [=](auto d, auto v) { return ClampAbove(d, ClampBelow(d, v, lo), hi); });
}

HWY_NOINLINE void HardtanhBackward(const float* x, const float* /*y*/,
                                   const float* dy, float* dx, double* /*dp*/,
                                   size_t n, const double* p) {
  ClampBackward(x, dy, dx, n,
                static_cast<float>(p[DLMATH_PARAM(hardtanh, min_val)]),
                static_cast<float>(p[DLMATH_PARAM(hardtanh, max_val)]));
}

// relu6(-0) = +0, as relu.
HWY_NOINLINE void Relu6Forward(const float* x, float* y, size_t n,
                               const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) { return ClampAbove(d, Relu(d, v), 6.0f); });
}

HWY_NOINLINE void Relu6Backward(const float* x, const float* /*y*/,
                                const float* dy, float* dx, double* /*dp*/,
                                size_t n, const double* /*p*/) {
  ClampBackward(x, dy, dx, n, 0.0f, 6.0f);
}

// ---------------------------------------------------------------------------
// hardsigmoid. y = relu6(x + 3)/6: +0 for x <= -3, 1 for x >= 3, else
// (x + 3)/6, where x + 3 is exact near -3 (x/6 + 1/2 would cancel there):
// ~1.5 ulp. Derivative 1/6 strictly inside (-3, 3).

// Clamping x + 3 to [0, 6] (x + 3 = +0 at x = -3; 6/6 rounds to exactly 1)
// gives the same values as the three-way select, in four instructions.
template <class D, class V>
HWY_INLINE V Hardsigmoid(D d, V x) {
  const V t =
      ClampAbove(d, ClampBelow(d, hn::Add(x, hn::Set(d, 3.0f)), 0.0f), 6.0f);
  return hn::Mul(t, hn::Set(d, 1.0f / 6));
}

HWY_NOINLINE void HardsigmoidForward(const float* x, float* y, size_t n,
                                     const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) { return Hardsigmoid(d, v); });
}

HWY_NOINLINE void HardsigmoidBackward(const float* x, const float* /*y*/,
                                      const float* dy, float* dx,
                                      double* /*dp*/, size_t n,
                                      const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    const auto inside =
        hn::And(hn::Gt(v, hn::Set(d, -3.0f)), hn::Lt(v, hn::Set(d, 3.0f)));
    return KeepNaN(v, KeepIf(d, inside, hn::Mul(g, hn::Set(d, 1.0f / 6))));
  });
}

// ---------------------------------------------------------------------------
// hardswish. y = x relu6(x + 3)/6: -0 for x <= -3 (PyTorch's x * 0, and the
// limit at -inf), x for x >= 3, else x (x + 3)/6 (~2 ulp, as hardsigmoid).
// Derivative (PyTorch's sides): 0 for x < -3, x/3 + 1/2 on [-3, 3], 1 above.

HWY_NOINLINE void HardswishForward(const float* x, float* y, size_t n,
                                   const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    // x hardsigmoid(x): hardsigmoid is +0 for x <= -3 (x clamped to -4 there,
    // so -inf gives -0 rather than NaN) and exactly 1 for x >= 3.
    return hn::Mul(ClampBelow(d, v, -4.0f), Hardsigmoid(d, v));
  });
}

HWY_NOINLINE void HardswishBackward(const float* x, const float* /*y*/,
                                    const float* dy, float* dx, double* /*dp*/,
                                    size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    const auto mid = hn::MulAdd(v, hn::Set(d, 1.0f / 3), hn::Set(d, 0.5f));
    return ZeroIf(
        d, hn::Lt(v, hn::Set(d, -3.0f)),
        hn::IfThenElse(hn::Gt(v, hn::Set(d, 3.0f)), g, hn::Mul(g, mid)));
  });
}

// ---------------------------------------------------------------------------
// logsigmoid. y = log sigma(x) = min(x, 0) - log1p(e^{-|x|}): one exp and
// Log1pUnit, no division, ~2 ulp; logsigmoid(+inf) = +0 (PyTorch's formula),
// (-inf) = -inf. Backward: 1 - sigma(x) = sigma(-x) from the same e.

HWY_NOINLINE void LogsigmoidForward(const float* x, float* y, size_t n,
                                    const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    const auto e = ExpNonPositive(d, hn::Neg(hn::Abs(v)));
    const auto m = KeepIf(d, hn::Lt(v, hn::Zero(d)), v);
    return hn::Sub(m, Log1pUnit(d, e));
  });
}

HWY_NOINLINE void LogsigmoidBackward(const float* x, const float* /*y*/,
                                     const float* dy, float* dx, double* /*dp*/,
                                     size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) e, s;
    // sigma(-x), computed as SigmoidParts of -x.
    return hn::Mul(g, SigmoidParts(d, hn::Neg(v), &e, &s));
  });
}

// ---------------------------------------------------------------------------
// tanhshrink. y = x - tanh x. For |x| < 1 it is -x^3 P(x^2) with P a
// degree-7 minimax fit to (tanh x - x)/x^3 (relative error 5.3e-9): no
// cancellation, ~2 ulp down to the smallest x, odd (-0 -> -0). Beyond,
// x - tanh x with FastTanh loses at most a factor 3.2 to cancellation
// (~8 ulp). Backward: tanh^2 x, recomputed.

template <class D, class V>
HWY_INLINE V TanhshrinkPoly(D d, V x2) {
  V p = hn::Set(d, 1.4283002994e-04f);
  p = hn::MulAdd(p, x2, hn::Set(d, -9.2363712759e-04f));
  p = hn::MulAdd(p, x2, hn::Set(d, 3.2070033025e-03f));
  p = hn::MulAdd(p, x2, hn::Set(d, -8.6979951785e-03f));
  p = hn::MulAdd(p, x2, hn::Set(d, 2.1829606198e-02f));
  p = hn::MulAdd(p, x2, hn::Set(d, -5.3963425896e-02f));
  p = hn::MulAdd(p, x2, hn::Set(d, 1.3333310747e-01f));
  return hn::MulAdd(p, x2, hn::Set(d, -3.3333333159e-01f));
}

HWY_NOINLINE void TanhshrinkForward(const float* x, float* y, size_t n,
                                    const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    const auto v2 = hn::Mul(v, v);
    const auto small = hn::Neg(hn::Mul(hn::Mul(v, v2), TanhshrinkPoly(d, v2)));
    return hn::IfThenElse(hn::Lt(hn::Abs(v), hn::Set(d, 1.0f)), small,
                          hn::Sub(v, FastTanh(d, v)));
  });
}

HWY_NOINLINE void TanhshrinkBackward(const float* x, const float* /*y*/,
                                     const float* dy, float* dx, double* /*dp*/,
                                     size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    const auto t = FastTanh(d, v);
    return hn::Mul(g, hn::Mul(t, t));
  });
}

// ---------------------------------------------------------------------------
// erf. y = erf x via Erf (simd-inl.h): max error ~1 ulp, erf(+-0) = +-0,
// erf(+-inf) = +-1. Backward: 2/sqrt(pi) e^{-x^2} from Erf's exponential
// (accurate in relative terms out to |x| = 9.3).

HWY_NOINLINE void ErfForward(const float* x, float* y, size_t n,
                             const double* /*p*/) {
  Map(x, y, n, [](auto d, auto v) {
    decltype(v) gauss;
    return Erf(d, v, &gauss);
  });
}

HWY_NOINLINE void ErfBackward(const float* x, const float* /*y*/,
                              const float* dy, float* dx, double* /*dp*/,
                              size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) gauss;
    Erf(d, v, &gauss);
    return hn::Mul(g, hn::Mul(gauss, hn::Set(d, 1.1283791670955126f)));
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_ACTIVATIONS_INL_H_
