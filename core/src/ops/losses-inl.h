// Loss kernels (Highway): the data-parallel parts of the losses, which the
// General-form ops in losses.cc call through dispatch. Legend: n elements.
// Backward helpers ACCUMULATE (+=) into their gradients.
#if defined(DLMATH_OPS_LOSSES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_LOSSES_INL_H_
#undef DLMATH_OPS_LOSSES_INL_H_
#else
#define DLMATH_OPS_LOSSES_INL_H_
#endif

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// sum((a - b)^2) over n, or the squares themselves into `sq` when it is not
// null (reduction 'none'). Blocks of 1024 are summed in float lanes (four
// accumulators) and the block sums in double: relative error ~ 1e-7 for any
// n, where one float accumulator would drift by ~n * 6e-8.
HWY_NOINLINE double SquaredDiff(const float* a, const float* b, float* sq,
                                size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  double total = 0;
  for (size_t start = 0; start < n; start += 1024) {
    const size_t end = start + 1024 < n ? start + 1024 : n;
    auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0;
    size_t i = start;
    for (; i + 4 * N <= end; i += 4 * N) {
      const auto e0 = hn::Sub(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
      const auto e1 = hn::Sub(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N));
      const auto e2 =
          hn::Sub(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N));
      const auto e3 =
          hn::Sub(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N));
      if (sq) {
        hn::StoreU(hn::Mul(e0, e0), d, sq + i);
        hn::StoreU(hn::Mul(e1, e1), d, sq + i + N);
        hn::StoreU(hn::Mul(e2, e2), d, sq + i + 2 * N);
        hn::StoreU(hn::Mul(e3, e3), d, sq + i + 3 * N);
      }
      s0 = hn::MulAdd(e0, e0, s0);
      s1 = hn::MulAdd(e1, e1, s1);
      s2 = hn::MulAdd(e2, e2, s2);
      s3 = hn::MulAdd(e3, e3, s3);
    }
    for (; i < end; i += N) {
      const size_t r = end - i < N ? end - i : N;
      const auto e = hn::Sub(LoadN(d, a + i, r), LoadN(d, b + i, r));
      if (sq) StoreN(hn::Mul(e, e), d, sq + i, r);
      s0 = hn::MulAdd(e, e, s0);  // padded lanes are 0 - 0
    }
    const auto s = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
    total += hn::GetLane(hn::SumOfLanes(d, s));
  }
  return total;
}

// da += k * g_i * (a - b) and db -= the same, g_i = g[i] (g_stride 1) or
// g[0] (g_stride 0, a reduced loss); either of da, db may be null.
HWY_NOINLINE void SquaredDiffBackward(const float* a, const float* b,
                                      const float* g, size_t g_stride, float k,
                                      float* da, float* db, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vk = hn::Set(d, k);
  auto step = [&](size_t i, size_t r) {  // r == N: full vectors
    const bool full = r == N;
    const auto e = full ? hn::Sub(hn::LoadU(d, a + i), hn::LoadU(d, b + i))
                        : hn::Sub(LoadN(d, a + i, r), LoadN(d, b + i, r));
    const auto gi = !g_stride ? hn::Set(d, g[0])
                    : full    ? hn::LoadU(d, g + i)
                              : LoadN(d, g + i, r);
    const auto t = hn::Mul(hn::Mul(vk, gi), e);
    if (full) {
      if (da) hn::StoreU(hn::Add(hn::LoadU(d, da + i), t), d, da + i);
      if (db) hn::StoreU(hn::Sub(hn::LoadU(d, db + i), t), d, db + i);
    } else {
      if (da) StoreN(hn::Add(LoadN(d, da + i, r), t), d, da + i, r);
      if (db) StoreN(hn::Sub(LoadN(d, db + i, r), t), d, db + i, r);
    }
  };
  size_t i = 0;
  for (; i + N <= n; i += N) step(i, N);
  if (i < n) step(i, n - i);
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_LOSSES_INL_H_
