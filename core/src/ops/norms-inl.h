// Normalization kernels (Highway): the per-row / per-channel reductions and
// the affine passes that the General-form ops in norms.cc combine. Legend: n
// elements of one normalized block (a row of layer_norm, the S spatial
// values of one channel of one sample for group/instance/batch norm).
// Backward helpers ACCUMULATE (+=) into their gradients.
#if defined(DLMATH_OPS_NORMS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_NORMS_INL_H_
#undef DLMATH_OPS_NORMS_INL_H_
#else
#define DLMATH_OPS_NORMS_INL_H_
#endif

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// sum(x) over n.
HWY_NOINLINE double NormSum(const float* x, size_t n) {
  const hn::ScalableTag<float> d;
  return BlockSum(d, n,
                  [&](size_t i, size_t r) { return LoadUpTo(d, x + i, r); });
}

// sum((x - c)^2) over n: c is the mean from NormSum (a second pass about the
// mean avoids E[x^2] - E[x]^2 cancellation), or 0 for rms_norm.
HWY_NOINLINE double NormSqDev(const float* x, size_t n, float c) {
  const hn::ScalableTag<float> d;
  const auto vc = hn::Set(d, c);
  return BlockSum(d, n, [&](size_t i, size_t r) {
    const auto e = hn::Sub(LoadUpTo(d, x + i, r), vc);
    return hn::Mul(e, e);
  });
}

// y = (x - mean) * rstd * w + b, w and b per element (null: 1 and 0).
HWY_NOINLINE void NormAffine(const float* x, const float* w, const float* b,
                             float* y, size_t n, float mean, float rstd) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, mean), vr = hn::Set(d, rstd);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    auto v = hn::Mul(hn::Sub(LoadUpTo(d, x + i, r), vm), vr);
    if (w) v = hn::Mul(v, LoadUpTo(d, w + i, r));
    if (b) v = hn::Add(v, LoadUpTo(d, b + i, r));
    StoreUpTo(d, v, y + i, r);
  }
}

// y = (x - mean) * a + b with scalars (one channel: a = rstd * weight[c]).
HWY_NOINLINE void NormScaleShift(const float* x, float* y, size_t n, float mean,
                                 float a, float b) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, mean), va = hn::Set(d, a), vb = hn::Set(d, b);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    StoreUpTo(d, hn::MulAdd(hn::Sub(LoadUpTo(d, x + i, r), vm), va, vb), y + i,
              r);
  }
}

// out[0] += sum(dy), out[1] += sum(dy (x - mean)) over n.
HWY_NOINLINE void NormGradSums(const float* x, const float* dy, size_t n,
                               float mean, double* out) {
  const hn::ScalableTag<float> d;
  const auto vm = hn::Set(d, mean);
  out[0] += BlockSum(
      d, n, [&](size_t i, size_t r) { return LoadUpTo(d, dy + i, r); });
  out[1] += BlockSum(d, n, [&](size_t i, size_t r) {
    return hn::Mul(LoadUpTo(d, dy + i, r), hn::Sub(LoadUpTo(d, x + i, r), vm));
  });
}

// dx += a dy + b (x - mean) + c, scalars: the whole input gradient of one
// channel block once its reductions are known.
HWY_NOINLINE void NormGradAccum(const float* x, const float* dy, float* dx,
                                size_t n, float mean, float a, float b,
                                float c) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, mean), va = hn::Set(d, a), vb = hn::Set(d, b),
             vc = hn::Set(d, c);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    const auto e = hn::Sub(LoadUpTo(d, x + i, r), vm);
    auto t = hn::MulAdd(e, vb, vc);
    t = hn::MulAdd(LoadUpTo(d, dy + i, r), va, t);
    StoreUpTo(d, hn::Add(LoadUpTo(d, dx + i, r), t), dx + i, r);
  }
}

// One row of layer_norm (center = 1) or rms_norm (center = 0, mean = 0)
// backward, llm.c's fused form: with xhat = (x - mean) rstd and dn = dy w,
//   dx += rstd (dn - mean(dn) [center] - xhat mean(dn xhat)),
//   dw += dy xhat, db += dy   (each may be null; w null means 1).
HWY_NOINLINE void NormRowBackward(const float* x, const float* w,
                                  const float* dy, float* dx, float* dw,
                                  float* db, size_t n, float mean, float rstd,
                                  int center) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, mean), vr = hn::Set(d, rstd);
  auto dn = [&](size_t i, size_t r) {
    const auto g = LoadUpTo(d, dy + i, r);
    return w ? hn::Mul(g, LoadUpTo(d, w + i, r)) : g;
  };
  auto xhat = [&](size_t i, size_t r) {
    return hn::Mul(hn::Sub(LoadUpTo(d, x + i, r), vm), vr);
  };
  const double m1 =
      center ? BlockSum(d, n, [&](size_t i, size_t r) { return dn(i, r); }) /
                   static_cast<double>(n)
             : 0.0;
  const double m2 = BlockSum(d, n,
                             [&](size_t i, size_t r) {
                               return hn::Mul(dn(i, r), xhat(i, r));
                             }) /
                    static_cast<double>(n);
  const auto v1 = hn::Set(d, static_cast<float>(m1));
  const auto v2 = hn::Set(d, static_cast<float>(m2));
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    const auto xh = xhat(i, r);
    if (dx) {
      const auto t =
          hn::Mul(vr, hn::Sub(hn::Sub(dn(i, r), v1), hn::Mul(xh, v2)));
      StoreUpTo(d, hn::Add(LoadUpTo(d, dx + i, r), t), dx + i, r);
    }
    const auto g = LoadUpTo(d, dy + i, r);
    if (dw) StoreUpTo(d, hn::MulAdd(g, xh, LoadUpTo(d, dw + i, r)), dw + i, r);
    if (db) StoreUpTo(d, hn::Add(LoadUpTo(d, db + i, r), g), db + i, r);
  }
}

// Weight norm / spectral norm helpers: sum(x^2) and sum(a b) over n.
HWY_NOINLINE double NormDot(const float* a, const float* b, size_t n) {
  const hn::ScalableTag<float> d;
  return BlockSum(d, n, [&](size_t i, size_t r) {
    return hn::Mul(LoadUpTo(d, a + i, r), LoadUpTo(d, b + i, r));
  });
}

// y = a x (+ y when accumulate): a scaled copy, or dx += a dy.
HWY_NOINLINE void NormAxpy(const float* x, float* y, size_t n, float a,
                           int accumulate) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto va = hn::Set(d, a);
  for (size_t i = 0; i < n; i += N) {
    const size_t r = n - i < N ? n - i : N;
    auto v = hn::Mul(LoadUpTo(d, x + i, r), va);
    if (accumulate) v = hn::Add(v, LoadUpTo(d, y + i, r));
    StoreUpTo(d, v, y + i, r);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_NORMS_INL_H_
