// Optimizer update kernels (Highway): one step of a torch.optim rule over a
// flat parameter vector, llm.c's gpt2_update style (one loop, state arrays
// beside the parameters). Legend: n parameters. Each function reads the
// parameters before the step from `p`, the gradient from `g`, updates its
// state arrays in place and writes the parameters after the step to `out`
// (which may alias p). The parameters carry float32 rounding from step to
// step: against float64, ~3e-7 relative over 10 steps and up to ~8e-6 over
// 1000 (a random walk of per-step roundings; PyTorch's float32 has it too).
// Per-step scalars (bias corrections, decayed lr) are
// computed by the caller in double and passed as floats. A gradient's weight
// decay of 0 is skipped, not added as 0 p: that can only flip the sign of a
// zero gradient, which changes no parameter (theta finite).
#if defined(DLMATH_OPS_OPTIM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_OPTIM_INL_H_
#undef DLMATH_OPS_OPTIM_INL_H_
#else
#define DLMATH_OPS_OPTIM_INL_H_
#endif

#include <type_traits>

#include "core/src/ops/simd-inl.h"
#include "core/src/steps.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// One vector of a step: the parameters before it, the gradient as given and
// the parameters after it.
template <class D>
struct StepLanes {
  hn::Vec<D> theta, g, out;
};

// Full vectors, then the remainder one lane at a time: body(i, r) (r ==
// Lanes(d), or 1 for a remainder's lane: OptimLoad then sets every lane to
// element i, OptimStore stores lane 0) advances the state of lanes [i, i + r)
// and returns their StepLanes, whose `out` this stores. A lane at a time
// costs less than a LoadN/StoreN vector (each a stack copy) for the usual
// remainder of one to three floats. Watched (w not null, core/src/steps.h),
// the same walk piece by piece in blocks of 64 vectors also sums the update
// and keeps theta in w->before: the one pass over the parameters does the
// engine's diagnostics too.
template <class D, class Body>
HWY_INLINE void OptimForVectors(D d, size_t n, float* out, const StepWatch* w,
                                const Body& body) {
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  if (!w) {
    for (; i + N <= n; i += N) hn::StoreU(body(i, N).out, d, out + i);
    for (; i < n; ++i) out[i] = hn::GetLane(body(i, 1).out);
    return;
  }
  using V = hn::Vec<D>;
  float* const before = w->before;  // (stores to out may alias *w)
  const size_t block = 64 * N;      // no lane sums more than 64 terms
  // One loop over the blocks of every piece, the piece's sums flushed after
  // each and the next piece taken when one ends (a loop a piece around a
  // loop a block cost V8 a loop's entry and exit tests per piece).
  const int64_t* end = w->ends;
  double* const* sums = w->sums;
  for (const int64_t* const last = end + w->pieces; end < last;) {
    const size_t stop = static_cast<size_t>(*end) - i > block
                            ? i + block
                            : static_cast<size_t>(*end);
    V s[4] = {hn::Zero(d), hn::Zero(d), hn::Zero(d), hn::Zero(d)};
    const auto add = [&](V theta, V g, V after) {
      const V delta = hn::Sub(after, theta);
      s[0] = hn::MulAdd(delta, delta, s[0]);
      s[1] = hn::MulAdd(theta, theta, s[1]);
      s[2] = hn::MulAdd(after, after, s[2]);
      s[3] = hn::MulAdd(g, g, s[3]);
    };
    for (; i + N <= stop; i += N) {
      const auto v = body(i, N);
      hn::StoreU(v.theta, d, before + i);
      hn::StoreU(v.out, d, out + i);
      add(v.theta, v.g, v.out);
    }
#if HWY_TARGET != HWY_SCALAR
    // A piece's last lanes: the j-th summed in lane j (the sums' bits of
    // one vector of them), the other lanes adding 0.
    const hn::RebindToSigned<D> di;
    for (auto at = hn::Iota(di, 0); i < stop;
         ++i, at = hn::Sub(at, hn::Set(di, 1))) {
      const auto v = body(i, 1);
      before[i] = hn::GetLane(v.theta);
      out[i] = hn::GetLane(v.out);
      const auto lane = hn::RebindMask(d, hn::Eq(at, hn::Zero(di)));
      add(hn::IfThenElseZero(lane, v.theta), hn::IfThenElseZero(lane, v.g),
          hn::IfThenElseZero(lane, v.out));
    }
#endif
    AddLaneSums4(d, s, *sums);  // (an empty piece adds 0s)
    if (i == static_cast<size_t>(*end)) {
      ++end;
      ++sums;
    }
  }
}
// Lanes [i, i + r) of p, r == Lanes(d) or 1 (OptimForVectors: element i in
// every lane).
template <class D>
HWY_INLINE hn::Vec<D> OptimLoad(D d, const float* p, size_t i, size_t r) {
  return r == hn::Lanes(d) ? hn::LoadU(d, p + i) : hn::Set(d, p[i]);
}
template <class D>
HWY_INLINE void OptimStore(D d, hn::Vec<D> v, float* p, size_t i, size_t r) {
  if (r == hn::Lanes(d)) {
    hn::StoreU(v, d, p + i);
  } else {
    p[i] = hn::GetLane(v);
  }
}

// SGD (torch.optim.SGD). d = g + wd p; with momentum mu > 0 the buffer is
// b = d on the first step, else mu b + damp d (damp = 1 - dampening, no
// (1 - mu) factor); the step is b, or d + mu b (nesterov). buf may be null
// when mu == 0. Error: a few ulp per step.
HWY_NOINLINE void SgdStep(const float* p, const float* g, float* buf,
                          float* out, size_t n, float lr, float wd, float mu,
                          float damp, int nesterov, int first,
                          const StepWatch* w) {
  const hn::ScalableTag<float> d;
  const auto vlr = hn::Set(d, lr), vwd = hn::Set(d, wd), vmu = hn::Set(d, mu),
             vdamp = hn::Set(d, damp);
  // Whether to decay and whether to keep momentum, chosen once: each pair a
  // loop of its own (tested per vector, they cost V8 a third of plain SGD's
  // vector). The body takes its values by copy: LLVM leaves one of the
  // four bodies out of line, and captured by reference, what it reads
  // (lr, p, g) then sat in memory for every loop, reloaded each vector.
  const auto walk = [&](auto decay, auto momentum) {
    OptimForVectors(d, n, out, w, [=](size_t i, size_t r) {
      const auto pi = OptimLoad(d, p, i, r), gi = OptimLoad(d, g, i, r);
      auto di = gi;
      if constexpr (decltype(decay)::value) di = hn::MulAdd(vwd, pi, gi);
      if constexpr (decltype(momentum)::value) {
        const auto b = first ? di
                             : hn::MulAdd(vmu, OptimLoad(d, buf, i, r),
                                          hn::Mul(vdamp, di));
        OptimStore(d, b, buf, i, r);
        di = nesterov ? hn::MulAdd(vmu, b, di) : b;
      }
      return StepLanes<decltype(d)>{pi, gi, hn::NegMulAdd(vlr, di, pi)};
    });
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (wd != 0) {
    mu != 0 ? walk(Yes(), Yes()) : walk(Yes(), No());
  } else {
    mu != 0 ? walk(No(), Yes()) : walk(No(), No());
  }
}

// Adam / AdamW (torch.optim.Adam, AdamW). p' = p - lr_wd p (AdamW: lr_wd =
// lr wd, applied BEFORE the step; Adam: 0), g' = g + l2 p (Adam's L2
// weight decay; AdamW: l2 = 0). The decay is p - (lr wd) p rather than
// p (1 - lr wd), whose factor rounded to float biases every step the same
// way (worst 3.0e-5 relative after 1000 steps at the defaults, vs 1.5e-5
// this way; Adam alone: 2.8e-6). m += (1 -
// b1)(g' - m) (PyTorch's lerp), v = b2 v + (1 - b2) g'^2, vmax = max(vmax, v)
// when amsgrad (vmax not null), out = p' - step_size m / (sqrt(v) inv_bc2_sqrt
// + eps), with step_size = lr / (1 - b1^t), inv_bc2_sqrt = 1 / sqrt(1 - b2^t).
// Error: a few ulp of the step per step; the state carries them on.
HWY_NOINLINE void AdamStep(const float* p, const float* g, float* m, float* v,
                           float* vmax, float* out, size_t n, float lr_wd,
                           float l2, float b1, float b2, float step_size,
                           float inv_bc2_sqrt, float eps, const StepWatch* w) {
  const hn::ScalableTag<float> d;
  const auto vlr_wd = hn::Set(d, lr_wd), vl2 = hn::Set(d, l2),
             v1b1 = hn::Set(d, 1.0f - b1), vb2 = hn::Set(d, b2),
             v1b2 = hn::Set(d, 1.0f - b2), vstep = hn::Set(d, step_size),
             vbc2 = hn::Set(d, inv_bc2_sqrt), veps = hn::Set(d, eps);
  OptimForVectors(d, n, out, w, [&](size_t i, size_t r) {
    const auto pi = OptimLoad(d, p, i, r), graw = OptimLoad(d, g, i, r);
    const auto gi = l2 != 0 ? hn::MulAdd(vl2, pi, graw) : graw;
    auto mi = OptimLoad(d, m, i, r);
    mi = hn::MulAdd(v1b1, hn::Sub(gi, mi), mi);
    auto vi =
        hn::MulAdd(vb2, OptimLoad(d, v, i, r), hn::Mul(v1b2, hn::Mul(gi, gi)));
    OptimStore(d, mi, m, i, r);
    OptimStore(d, vi, v, i, r);
    if (vmax) {
      vi = hn::Max(OptimLoad(d, vmax, i, r), vi);
      OptimStore(d, vi, vmax, i, r);
    }
    const auto denom = hn::MulAdd(hn::Sqrt(vi), vbc2, veps);
    return StepLanes<decltype(d)>{pi, graw,
                                  hn::NegMulAdd(vstep, hn::Div(mi, denom),
                                                hn::NegMulAdd(vlr_wd, pi, pi))};
  });
}

// RMSprop (torch.optim.RMSprop). g' = g + wd p; sq = a sq + (1 - a) g'^2;
// centered: ga += (1 - a)(g' - ga), avg = sqrt(sq - ga^2) + eps, else
// sqrt(sq) + eps; momentum mu > 0: buf = mu buf + g'/avg, out = p - lr buf;
// else out = p - lr g'/avg. ga / buf may be null when unused.
HWY_NOINLINE void RmspropStep(const float* p, const float* g, float* sq,
                              float* ga, float* buf, float* out, size_t n,
                              float lr, float alpha, float eps, float wd,
                              float mu, const StepWatch* w) {
  const hn::ScalableTag<float> d;
  const auto vlr = hn::Set(d, lr), va = hn::Set(d, alpha),
             v1a = hn::Set(d, 1.0f - alpha), veps = hn::Set(d, eps),
             vwd = hn::Set(d, wd), vmu = hn::Set(d, mu);
  OptimForVectors(d, n, out, w, [&](size_t i, size_t r) {
    const auto pi = OptimLoad(d, p, i, r), graw = OptimLoad(d, g, i, r);
    const auto gi = wd != 0 ? hn::MulAdd(vwd, pi, graw) : graw;
    const auto si =
        hn::MulAdd(va, OptimLoad(d, sq, i, r), hn::Mul(v1a, hn::Mul(gi, gi)));
    OptimStore(d, si, sq, i, r);
    auto var = si;
    if (ga) {
      auto gai = OptimLoad(d, ga, i, r);
      gai = hn::MulAdd(v1a, hn::Sub(gi, gai), gai);
      OptimStore(d, gai, ga, i, r);
      var = hn::NegMulAdd(gai, gai, si);
    }
    auto q = hn::Div(gi, hn::Add(hn::Sqrt(var), veps));
    if (buf) {
      q = hn::MulAdd(vmu, OptimLoad(d, buf, i, r), q);
      OptimStore(d, q, buf, i, r);
    }
    return StepLanes<decltype(d)>{pi, graw, hn::NegMulAdd(vlr, q, pi)};
  });
}

// Adagrad (torch.optim.Adagrad). g' = g + wd p; s += g'^2;
// out = p - clr g' / (sqrt(s) + eps), clr = lr / (1 + (t - 1) lr_decay).
HWY_NOINLINE void AdagradStep(const float* p, const float* g, float* s,
                              float* out, size_t n, float clr, float wd,
                              float eps, const StepWatch* w) {
  const hn::ScalableTag<float> d;
  const auto vclr = hn::Set(d, clr), vwd = hn::Set(d, wd),
             veps = hn::Set(d, eps);
  OptimForVectors(d, n, out, w, [&](size_t i, size_t r) {
    const auto pi = OptimLoad(d, p, i, r), graw = OptimLoad(d, g, i, r);
    const auto gi = wd != 0 ? hn::MulAdd(vwd, pi, graw) : graw;
    const auto si = hn::MulAdd(gi, gi, OptimLoad(d, s, i, r));
    OptimStore(d, si, s, i, r);
    const auto q = hn::Div(gi, hn::Add(hn::Sqrt(si), veps));
    return StepLanes<decltype(d)>{pi, graw, hn::NegMulAdd(vclr, q, pi)};
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_OPTIM_INL_H_
