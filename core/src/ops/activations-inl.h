// Elementwise activation kernels (Highway), one forward/backward pair per
// registry row, forward first. Legend: n elements. Row-wise activations live
// in rowwise-inl.h.
//
// Every backward ACCUMULATES (+=) into dx (and dp for learnable params); the
// caller zeroes them once per step.
#if defined(DLMATH_OPS_ACTIVATIONS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_ACTIVATIONS_INL_H_
#undef DLMATH_OPS_ACTIVATIONS_INL_H_
#else
#define DLMATH_OPS_ACTIVATIONS_INL_H_
#endif

#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------
// Elementwise drivers: apply f(d, x) (forward) or g(d, x, y, dy) (backward,
// returns the dx contribution) over n floats, four vectors per iteration
// (independent chains hide the latency of exp and division), then the
// remainder through LoadN/StoreN. In place (y == x) is fine.

template <class F>
HWY_INLINE void MapForward(const float* x, float* y, size_t n, const F& f) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
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

template <class G>
HWY_INLINE void MapBackward(const float* x, const float* y, const float* dy,
                            float* dx, size_t n, const G& g) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto g0 = g(d, hn::LoadU(d, x + i), hn::LoadU(d, y + i),
                      hn::LoadU(d, dy + i));
    const auto g1 = g(d, hn::LoadU(d, x + i + N), hn::LoadU(d, y + i + N),
                      hn::LoadU(d, dy + i + N));
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i + N), g1), d, dx + i + N);
  }
  for (; i + N <= n; i += N) {
    const auto gi = g(d, hn::LoadU(d, x + i), hn::LoadU(d, y + i),
                      hn::LoadU(d, dy + i));
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i), gi), d, dx + i);
  }
  if (i < n) {
    const size_t r = n - i;
    const auto gi = g(d, LoadN(d, x + i, r), LoadN(d, y + i, r),
                      LoadN(d, dy + i, r));
    StoreN(hn::Add(LoadN(d, dx + i, r), gi), d, dx + i, r);
  }
}

// ---------------------------------------------------------------------------
// sigmoid. y = 1 / (1 + e^-x), any x. Computed from e = e^{-|x|} <= 1 so exp
// never overflows: sigma = 1/(1+e) for x >= 0 and e/(1+e) for x < 0.
// Error <= 2e-7 absolute. Backward recomputes e: sigma' = e/(1+e)^2 keeps full
// relative accuracy in both tails (y(1-y) would round to 0 for x > 17).

template <class D, class V>
HWY_INLINE V SigmoidParts(D d, V x, V* e_out, V* s_out) {
  const V e = ExpNonPositive(d, hn::Neg(hn::Abs(x)));
  const V s = hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), e));
  *e_out = e;
  *s_out = s;
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(e, s), s);
}

HWY_NOINLINE void SigmoidForward(const float* x, float* y, size_t n,
                                 const double* /*p*/) {
  MapForward(x, y, n, [](auto d, auto v) {
    decltype(v) e, s;
    return SigmoidParts(d, v, &e, &s);
  });
}

HWY_NOINLINE void SigmoidBackward(const float* x, const float* /*y*/,
                                  const float* dy, float* dx, double* /*dp*/,
                                  size_t n, const double* /*p*/) {
  MapBackward(x, x, dy, dx, n, [](auto d, auto v, auto, auto g) {
    decltype(v) e, s;
    SigmoidParts(d, v, &e, &s);
    return hn::Mul(g, hn::Mul(e, hn::Mul(s, s)));
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_ACTIVATIONS_INL_H_
