// Row-wise activation kernels (Highway): softmax and its relatives over the
// last dimension, plus the SIMD blocks of prelu (a General op whose shape
// logic lives in activations.cc). Legend: rows x cols, cols = the last
// dimension; every row is independent. Forward first, then backward, which
// ACCUMULATES (+=) into dx (and dp / dw); the caller zeroes them once per
// step.
//
// Every pass over a row runs four vectors per iteration into independent
// accumulators (exp and the reductions are latency-bound otherwise), and the
// remainder goes through LoadN/StoreN as one masked vector: no scalar loops
// and no reads past the row. e^x comes from ExpNonPositiveFast (2.3 ulp),
// whose argument here is never positive (x - max, y <= 0, -|b|).
#if defined(DLMATH_OPS_ROWWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_ROWWISE_INL_H_
#undef DLMATH_OPS_ROWWISE_INL_H_
#else
#define DLMATH_OPS_ROWWISE_INL_H_
#endif

#include <cfloat>
#include <cmath>

#include "core/src/ops/simd-inl.h"
#include "dlmath/registry.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------
// Row helpers over one row of `cols` floats.

// Sum of the row, Kahan-compensated in every lane (four independent sets of
// lanes, for latency). Gradients are summed this way (sum(dy) in log_softmax's
// backward): their terms cancel, and a plain float sum of n of them is off by
// about sqrt(n) ulp of the partial sums (2e-6 for 1000 values in [-2, 2])
// however it is blocked. Wasm SIMD in Highway 1.0.3 has no float64
// arithmetic, hence compensation rather than double lanes.
HWY_INLINE float RowSum(const float* x, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  using V = hn::Vec<decltype(d)>;
  V s[4], c[4];  // c: minus what each lane's sum has lost to rounding
  for (int k = 0; k < 4; ++k) s[k] = c[k] = hn::Zero(d);
  const auto add = [](V v, V* sum, V* comp) {
    const V y = hn::Sub(v, *comp);
    const V t = hn::Add(*sum, y);
    *comp = hn::Sub(hn::Sub(t, *sum), y);
    *sum = t;
  };
  size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N)
    for (int k = 0; k < 4; ++k) add(hn::LoadU(d, x + i + k * N), &s[k], &c[k]);
  for (; i + N <= cols; i += N) add(hn::LoadU(d, x + i), &s[0], &c[0]);
  if (i < cols) add(LoadN(d, x + i, cols - i), &s[1], &c[1]);
  HWY_ALIGN float lanes[2 * hn::MaxLanes(d)];
  double total = 0;
  for (int k = 0; k < 4; ++k) {
    hn::Store(s[k], d, lanes);
    hn::Store(c[k], d, lanes + N);
    for (size_t j = 0; j < N; ++j) total += double{lanes[j]} - lanes[N + j];
  }
  if (std::isfinite(total)) return static_cast<float>(total);
  // An infinite term turns the compensation into inf - inf = NaN: redo the
  // sum plainly so that inf stays inf (and NaN stays NaN).
  auto plain = hn::Zero(d);
  for (i = 0; i + N <= cols; i += N)
    plain = hn::Add(plain, hn::LoadU(d, x + i));
  if (i < cols) plain = hn::Add(plain, LoadN(d, x + i, cols - i));
  return hn::GetLane(hn::SumOfLanes(d, plain));
}

// Returns sum_i e^((x_i - shift) * scale) and, with kStore, writes each term
// to y (y may alias x). Needs (x - shift) * scale <= 0 or NaN: shift is the
// row max and scale > 0. kScaled = false skips the multiply.
template <bool kStore, bool kScaled>
HWY_INLINE float RowExpSum(const float* x, float* y, size_t cols, float shift,
                           float scale) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vs = hn::Set(d, shift);
  const auto vk = hn::Set(d, scale);
  const auto arg = [&](auto v) {
    const auto t = hn::Sub(v, vs);
    return kScaled ? hn::Mul(t, vk) : t;
  };
  auto s0 = hn::Zero(d), s1 = s0;
  size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N) {
    const auto e0 = ExpNonPositiveFast(d, arg(hn::LoadU(d, x + i)));
    const auto e1 = ExpNonPositiveFast(d, arg(hn::LoadU(d, x + i + N)));
    const auto e2 = ExpNonPositiveFast(d, arg(hn::LoadU(d, x + i + 2 * N)));
    const auto e3 = ExpNonPositiveFast(d, arg(hn::LoadU(d, x + i + 3 * N)));
    if (kStore) {
      hn::StoreU(e0, d, y + i);
      hn::StoreU(e1, d, y + i + N);
      hn::StoreU(e2, d, y + i + 2 * N);
      hn::StoreU(e3, d, y + i + 3 * N);
    }
    // Two accumulators: the adds are not the bottleneck, the registers are
    // (wasm on x64 has 16, and the exp keeps about ten constants live).
    s0 = hn::Add(s0, hn::Add(e0, e1));
    s1 = hn::Add(s1, hn::Add(e2, e3));
  }
  for (; i + N <= cols; i += N) {
    const auto e0 = ExpNonPositiveFast(d, arg(hn::LoadU(d, x + i)));
    if (kStore) hn::StoreU(e0, d, y + i);
    s0 = hn::Add(s0, e0);
  }
  if (i < cols) {
    // Zero-padded lanes would add e^(-shift * scale): mask them out.
    const size_t r = cols - i;
    const auto e0 = hn::IfThenElseZero(
        hn::FirstN(d, r), ExpNonPositiveFast(d, arg(LoadN(d, x + i, r))));
    if (kStore) StoreN(e0, d, y + i, r);
    s1 = hn::Add(s1, e0);
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
}

// dx += g(d, a, b) lane by lane over the row (a, b: two input rows).
template <class G>
HWY_INLINE void RowAccumulate(const float* a, const float* b, float* dx,
                              size_t cols, const G& g) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + 2 * N <= cols; i += 2 * N) {
    const auto g0 = g(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i));
    const auto g1 = g(d, hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N));
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i + N), g1), d, dx + i + N);
  }
  for (; i + N <= cols; i += N) {
    const auto g0 = g(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i));
    hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
  }
  if (i < cols) {
    const size_t r = cols - i;
    const auto g0 = g(d, LoadN(d, a + i, r), LoadN(d, b + i, r));
    StoreN(hn::Add(LoadN(d, dx + i, r), g0), d, dx + i, r);
  }
}

// True if any entry is NaN (only asked on the rare rows whose max is
// infinite, where the sum of exps cannot be used to find out).
HWY_INLINE bool RowHasNaN(const float* x, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= cols; i += N)
    if (!hn::AllFalse(d, hn::IsNaN(hn::LoadU(d, x + i)))) return true;
  return i < cols && !hn::AllFalse(d, hn::IsNaN(LoadN(d, x + i, cols - i)));
}

// ---------------------------------------------------------------------------
// softmax. rows x cols -> rows x cols. y = e^(x - max) / sum, max starting at
// -inf so a row of -inf (or one with +inf or NaN) gives NaN like PyTorch. In
// place is fine. Three passes (max, exp + sum, scale), each over a row that
// stays in L1. Error <= 2e-7 * max(1, y). Backward uses y:
// dx += y * (dy - <dy, y>).

HWY_NOINLINE void SoftmaxForward(const float* x, float* y, size_t rows,
                                 size_t cols, const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = RowMax(xr, cols);
    const float s = RowExpSum<true, false>(xr, yr, cols, m, 1.0f);
    const float k = 1.0f / s;
    Map(yr, yr, cols,
        [k](auto d, auto v) { return hn::Mul(v, hn::Set(d, k)); });
  }
}

HWY_NOINLINE void SoftmaxBackward(const float* /*x*/, const float* y,
                                  const float* dy, float* dx, double* /*dp*/,
                                  size_t rows, size_t cols,
                                  const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    const float dot = RowDot(gr, yr, cols);
    RowAccumulate(yr, gr, dx + r * cols, cols, [dot](auto d, auto yv, auto g) {
      return hn::Mul(yv, hn::Sub(g, hn::Set(d, dot)));
    });
  }
}

// ---------------------------------------------------------------------------
// log_softmax. rows x cols -> rows x cols. y = (x - max) - log(sum e^(x -
// max)): log(softmax) is never formed, so a probability that underflows still
// gets its exact log, and |x| up to 1e4 (or any finite x) stays finite.
// Subtracting max and log(sum) separately (not x - (max + log sum)) keeps the
// top entries accurate when |max| is large. NaN / +inf / all -inf rows give
// NaN like PyTorch. In place is fine. Error <= 3e-7 * max(1, |y|).
// Backward uses y: dx += dy - e^y * sum(dy).

HWY_NOINLINE void LogSoftmaxForward(const float* x, float* y, size_t rows,
                                    size_t cols, const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float m = RowMax(xr, cols);
    const float ls = std::log(RowExpSum<false, false>(xr, nullptr, cols, m, 1));
    Map(xr, y + r * cols, cols, [m, ls](auto d, auto v) {
      return hn::Sub(hn::Sub(v, hn::Set(d, m)), hn::Set(d, ls));
    });
  }
}

HWY_NOINLINE void LogSoftmaxBackward(const float* /*x*/, const float* y,
                                     const float* dy, float* dx, double* /*dp*/,
                                     size_t rows, size_t cols,
                                     const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* gr = dy + r * cols;
    const float sum = RowSum(gr, cols);
    // y <= 0 by construction, so e^y needs only the non-positive exp.
    RowAccumulate(
        y + r * cols, gr, dx + r * cols, cols, [sum](auto d, auto yv, auto g) {
          return hn::NegMulAdd(ExpNonPositiveFast(d, yv), hn::Set(d, sum), g);
        });
  }
}

// ---------------------------------------------------------------------------
// softmax_temperature. rows x cols -> rows x cols, param temperature T > 0.
// y = softmax(x / T), computed as e^((x - max) / T) / sum (dividing by T > 0
// keeps the max where it is). 1/T is clamped to [FLT_MIN, FLT_MAX] so a
// tiny or huge T gives the one-hot / uniform limit instead of 0 * inf = NaN.
// Error <= 4e-7 * max(1, y) for |x - max| / T up to 88 (beyond, y ~ 0).
// Backward uses y: dx += y * (dy - <dy, y>) / T.

HWY_INLINE float InverseTemperature(const double* p) {
  const double k = 1.0 / p[DLMATH_PARAM(softmax_temperature, temperature)];
  return static_cast<float>(k < FLT_MIN ? FLT_MIN : k > FLT_MAX ? FLT_MAX : k);
}

HWY_NOINLINE void SoftmaxTemperatureForward(const float* x, float* y,
                                            size_t rows, size_t cols,
                                            const double* p) {
  const float k = InverseTemperature(p);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = RowMax(xr, cols);
    const float inv = 1.0f / RowExpSum<true, true>(xr, yr, cols, m, k);
    Map(yr, yr, cols,
        [inv](auto d, auto v) { return hn::Mul(v, hn::Set(d, inv)); });
  }
}

HWY_NOINLINE void SoftmaxTemperatureBackward(const float* /*x*/, const float* y,
                                             const float* dy, float* dx,
                                             double* /*dp*/, size_t rows,
                                             size_t cols, const double* p) {
  const float k = InverseTemperature(p);
  for (size_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    const float dot = RowDot(gr, yr, cols);
    RowAccumulate(yr, gr, dx + r * cols, cols,
                  [dot, k](auto d, auto yv, auto g) {
                    return hn::Mul(hn::Mul(yv, hn::Set(d, k)),
                                   hn::Sub(g, hn::Set(d, dot)));
                  });
  }
}

// ---------------------------------------------------------------------------
// logsumexp. rows x cols -> rows (the last dimension is dropped).
// y = max + log(sum e^(x - max)), finite for any finite row. PyTorch's rules
// for the rest: an empty or all -inf row gives -inf, a row with +inf gives
// +inf, a NaN anywhere gives NaN. Error <= 2e-7 * max(1, |y|).
// Backward: dx += dy * softmax(x), recomputed from x as e^(x - max) / sum
// rather than PyTorch's e^(x - y): y's own rounding (half an ulp of 1e4 is
// 5e-4) would pass straight into the gradient. Rows with an infinite max use
// e^(x - y) after all, which gives PyTorch's 0 (or NaN where x = y = +-inf).

HWY_NOINLINE void LogsumexpForward(const float* x, float* y, size_t rows,
                                   size_t cols, const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float m = RowMax(xr, cols);
    if (std::isinf(m)) {
      // All -inf (or empty), or some +inf: the sum of e^(x - m) would be
      // NaN, but the answer is m itself unless a NaN hides in the row.
      y[r] = RowHasNaN(xr, cols) ? NAN : m;
    } else {
      y[r] = m + std::log(RowExpSum<false, false>(xr, nullptr, cols, m, 1));
    }
  }
}

HWY_NOINLINE void LogsumexpBackward(const float* x, const float* y,
                                    const float* dy, float* dx, double* /*dp*/,
                                    size_t rows, size_t cols,
                                    const double* /*p*/) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float m = RowMax(xr, cols);
    float shift = y[r], scale = dy[r];
    if (!std::isinf(m)) {  // finite, or NaN (then the sum is NaN too)
      shift = m;
      scale = dy[r] / RowExpSum<false, false>(xr, nullptr, cols, m, 1);
    }
    // x <= max <= y, so the argument is never positive.
    RowAccumulate(xr, xr, dx + r * cols, cols,
                  [shift, scale](auto d, auto xv, auto) {
                    const auto t = hn::Sub(xv, hn::Set(d, shift));
                    return hn::Mul(hn::Set(d, scale), ExpNonPositiveFast(d, t));
                  });
  }
}

// ---------------------------------------------------------------------------
// glu. rows x cols -> rows x cols/2 (cols even, checked by the runtime): the
// row is a | b and y = a * sigmoid(b), like torch.nn.functional.glu(dim=-1).
// The sigmoid comes from e = e^-|b| <= 1, so exp never overflows:
// sigmoid(b) = 1/(1+e) for b >= 0, e/(1+e) below. Error <= 3e-7 * max(1, |y|).
// Backward recomputes e from x: da += dy * s, db += dy * a * e/(1+e)^2 (the
// form of s(1-s) that keeps its accuracy in both tails).

// sigmoid(b), with e^-|b| and 1/(1+e^-|b|) returned for the backward.
template <class D, class V>
HWY_INLINE V GluGate(D d, V b, V* e_out, V* r_out) {
  const V e = ExpNonPositiveFast(d, hn::Neg(hn::Abs(b)));
  const V r = hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), e));
  *e_out = e;
  *r_out = r;
  return hn::IfThenElse(hn::Lt(b, hn::Zero(d)), hn::Mul(e, r), r);
}

HWY_NOINLINE void GluForward(const float* x, float* y, size_t rows, size_t cols,
                             const double* /*p*/) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t h = cols / 2;
  const auto f = [d](auto a, auto b) {
    decltype(a) e, r;
    return hn::Mul(a, GluGate(d, b, &e, &r));
  };
  for (size_t row = 0; row < rows; ++row) {
    const float* a = x + row * cols;
    const float* b = a + h;
    float* yr = y + row * h;
    size_t i = 0;
    for (; i + 2 * N <= h; i += 2 * N) {
      const auto y0 = f(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
      const auto y1 = f(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N));
      hn::StoreU(y0, d, yr + i);
      hn::StoreU(y1, d, yr + i + N);
    }
    for (; i + N <= h; i += N)
      hn::StoreU(f(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, yr + i);
    if (i < h) {
      const size_t n = h - i;
      StoreN(f(LoadN(d, a + i, n), LoadN(d, b + i, n)), d, yr + i, n);
    }
  }
}

HWY_NOINLINE void GluBackward(const float* x, const float* /*y*/,
                              const float* dy, float* dx, double* /*dp*/,
                              size_t rows, size_t cols, const double* /*p*/) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t h = cols / 2;
  // da and db for one vector; both added into dx.
  const auto step = [d](const float* a, const float* b, const float* g,
                        float* da, float* db, size_t n) {
    const bool full = n == hn::Lanes(d);
    const auto av = full ? hn::LoadU(d, a) : LoadN(d, a, n);
    const auto bv = full ? hn::LoadU(d, b) : LoadN(d, b, n);
    const auto gv = full ? hn::LoadU(d, g) : LoadN(d, g, n);
    hn::Vec<decltype(d)> e, r;
    const auto s = GluGate(d, bv, &e, &r);
    const auto ga = hn::Mul(gv, s);
    const auto gb = hn::Mul(hn::Mul(gv, av), hn::Mul(e, hn::Mul(r, r)));
    if (full) {
      hn::StoreU(hn::Add(hn::LoadU(d, da), ga), d, da);
      hn::StoreU(hn::Add(hn::LoadU(d, db), gb), d, db);
    } else {
      StoreN(hn::Add(LoadN(d, da, n), ga), d, da, n);
      StoreN(hn::Add(LoadN(d, db, n), gb), d, db, n);
    }
  };
  for (size_t row = 0; row < rows; ++row) {
    const float* a = x + row * cols;
    const float* g = dy + row * h;
    float* da = dx + row * cols;
    size_t i = 0;
    for (; i + N <= h; i += N)
      step(a + i, a + h + i, g + i, da + i, da + h + i, N);
    if (i < h) step(a + i, a + h + i, g + i, da + i, da + h + i, h - i);
  }
}

// ---------------------------------------------------------------------------
// prelu blocks (the op is General; activations.cc checks shapes and calls
// these). x is outer x channels x inner, w has `nw` = 1 or `channels`
// weights. y = x > 0 ? x : w[c] * x; NaN stays NaN (the comparison is false)
// and -inf * w follows IEEE, both as PyTorch's kernel. Exact (one multiply).
// Backward: dx += dy * (x > 0 ? 1 : w[c]) when dx is not null, and
// dw[c] += sum of dy * x over x <= 0 when dw is not null; the sums run in
// float vectors over bounded chunks and are added up in double.

template <class D, class V>
HWY_INLINE V PreluVec(D d, V x, V w) {
  return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), x, hn::Mul(x, w));
}

// One weight for a contiguous span of n.
HWY_INLINE void PreluSpanForward(const float* x, float w, float* y, size_t n) {
  Map(x, y, n, [w](auto d, auto v) { return PreluVec(d, v, hn::Set(d, w)); });
}

// dx += dy * (x > 0 ? 1 : w) over a span (skipped when dx is null); returns
// the span's sum of dy * x over x <= 0.
HWY_INLINE float PreluSpanBackward(const float* x, const float* dy, float w,
                                   float* dx, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vw = hn::Set(d, w);
  const auto kZero = hn::Zero(d);
  auto s0 = kZero, s1 = kZero;
  // Returns the dx term; adds the dw term to *acc.
  const auto grad = [&](auto xv, auto gv, auto* acc) {
    const auto pos = hn::Gt(xv, kZero);
    *acc = hn::Add(*acc, ZeroIf(d, pos, hn::Mul(gv, xv)));
    return hn::IfThenElse(pos, gv, hn::Mul(gv, vw));
  };
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto g0 = grad(hn::LoadU(d, x + i), hn::LoadU(d, dy + i), &s0);
    const auto g1 =
        grad(hn::LoadU(d, x + i + N), hn::LoadU(d, dy + i + N), &s1);
    if (dx) {
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
      hn::StoreU(hn::Add(hn::LoadU(d, dx + i + N), g1), d, dx + i + N);
    }
  }
  for (; i + N <= n; i += N) {
    const auto g0 = grad(hn::LoadU(d, x + i), hn::LoadU(d, dy + i), &s0);
    if (dx) hn::StoreU(hn::Add(hn::LoadU(d, dx + i), g0), d, dx + i);
  }
  if (i < n) {
    // Zero padding: x = 0 and dy = 0 add nothing to either output.
    const size_t r = n - i;
    const auto g0 = grad(LoadN(d, x + i, r), LoadN(d, dy + i, r), &s1);
    if (dx) StoreN(hn::Add(LoadN(d, dx + i, r), g0), d, dx + i, r);
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
}

HWY_NOINLINE void PreluForwardBlocks(const float* x, const float* w, float* y,
                                     size_t outer, size_t channels,
                                     size_t inner, size_t nw) {
  if (nw == 1 || channels == 1) {
    PreluSpanForward(x, w[0], y, outer * channels * inner);
  } else if (inner == 1) {
    // [N, C]: a row of channels meets the weight row lane by lane.
    const hn::ScalableTag<float> d;
    const size_t N = hn::Lanes(d);
    for (size_t o = 0; o < outer; ++o) {
      const float* xr = x + o * channels;
      float* yr = y + o * channels;
      size_t c = 0;
      for (; c + N <= channels; c += N)
        hn::StoreU(PreluVec(d, hn::LoadU(d, xr + c), hn::LoadU(d, w + c)), d,
                   yr + c);
      if (c < channels) {
        const size_t r = channels - c;
        StoreN(PreluVec(d, LoadN(d, xr + c, r), LoadN(d, w + c, r)), d, yr + c,
               r);
      }
    }
  } else {
    for (size_t o = 0; o < outer; ++o)
      for (size_t c = 0; c < channels; ++c) {
        const size_t at = (o * channels + c) * inner;
        PreluSpanForward(x + at, w[c], y + at, inner);
      }
  }
}

HWY_NOINLINE void PreluBackwardBlocks(const float* x, const float* w,
                                      const float* dy, float* dx, float* dw,
                                      size_t outer, size_t channels,
                                      size_t inner, size_t nw) {
  constexpr size_t kChunk = 4096;  // float partial sums never span more
  if (nw == 1 || channels == 1) {
    const size_t n = outer * channels * inner;
    double sum = 0;
    for (size_t i = 0; i < n; i += kChunk) {
      const size_t len = n - i < kChunk ? n - i : kChunk;
      sum += PreluSpanBackward(x + i, dy + i, w[0], dx ? dx + i : nullptr, len);
    }
    if (dw) dw[0] += static_cast<float>(sum);
  } else if (inner == 1) {
    // [N, C]: vectors run along the channels; per-channel sums of dy * x
    // gather in float over 16 rows, then in double.
    const hn::ScalableTag<float> d;
    const size_t N = hn::Lanes(d);
    constexpr size_t kCols = 512, kRows = 16;
    HWY_ALIGN float part[kCols];
    double total[kCols];
    for (size_t c0 = 0; c0 < channels; c0 += kCols) {
      const size_t nc = channels - c0 < kCols ? channels - c0 : kCols;
      for (size_t j = 0; j < nc; ++j) total[j] = 0;
      for (size_t o0 = 0; o0 < outer; o0 += kRows) {
        for (size_t j = 0; j < kCols; ++j) part[j] = 0;
        const size_t o1 = outer - o0 < kRows ? outer : o0 + kRows;
        for (size_t o = o0; o < o1; ++o) {
          const size_t at = o * channels + c0;
          // Returns the dx term; adds the dw term to part[c..c+N).
          const auto grad = [&](size_t c, auto xv, auto gv, auto wv) {
            const auto pos = hn::Gt(xv, hn::Zero(d));
            // part has kCols entries, a multiple of N: full vectors are safe.
            hn::Store(
                hn::Add(hn::Load(d, part + c), ZeroIf(d, pos, hn::Mul(gv, xv))),
                d, part + c);
            return hn::IfThenElse(pos, gv, hn::Mul(gv, wv));
          };
          size_t c = 0;
          for (; c + N <= nc; c += N) {
            const auto gx =
                grad(c, hn::LoadU(d, x + at + c), hn::LoadU(d, dy + at + c),
                     hn::LoadU(d, w + c0 + c));
            if (dx)
              hn::StoreU(hn::Add(hn::LoadU(d, dx + at + c), gx), d,
                         dx + at + c);
          }
          if (c < nc) {
            const size_t r = nc - c;
            const auto gx =
                grad(c, LoadN(d, x + at + c, r), LoadN(d, dy + at + c, r),
                     LoadN(d, w + c0 + c, r));
            if (dx)
              StoreN(hn::Add(LoadN(d, dx + at + c, r), gx), d, dx + at + c, r);
          }
        }
        for (size_t j = 0; j < nc; ++j) total[j] += part[j];
      }
      if (dw)
        for (size_t j = 0; j < nc; ++j)
          dw[c0 + j] += static_cast<float>(total[j]);
    }
  } else {
    for (size_t c = 0; c < channels; ++c) {
      double sum = 0;
      for (size_t o = 0; o < outer; ++o) {
        const size_t at = (o * channels + c) * inner;
        for (size_t i = 0; i < inner; i += kChunk) {
          const size_t len = inner - i < kChunk ? inner - i : kChunk;
          sum += PreluSpanBackward(x + at + i, dy + at + i, w[c],
                                   dx ? dx + at + i : nullptr, len);
        }
      }
      if (dw) dw[c] += static_cast<float>(sum);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_ROWWISE_INL_H_
