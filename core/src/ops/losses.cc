// Losses: General-form ops (the reduction decides the output shape) -- the
// regression and probabilistic losses first, then the classification,
// ranking and sequence ones. The data-parallel parts are Highway kernels in
// losses-inl.h, dispatched here; gathers and the CTC dynamic programme are
// plain loops. Legend: n elements, N samples, C classes, D features, T time
// steps, S target length.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/losses.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/losses-inl.h"
// clang-format on

#if HWY_ONCE
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_losses(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(SquaredDiff)
DLMATH_HWY_EXPORT(SquaredDiffBackward)
DLMATH_HWY_EXPORT(AbsDiff)
DLMATH_HWY_EXPORT(AbsDiffBackward)
DLMATH_HWY_EXPORT(Huber)
DLMATH_HWY_EXPORT(HuberBackward)
DLMATH_HWY_EXPORT(SmoothL1)
DLMATH_HWY_EXPORT(SmoothL1Backward)
DLMATH_HWY_EXPORT(Bce)
DLMATH_HWY_EXPORT(BceBackward)
DLMATH_HWY_EXPORT(BceLogits)
DLMATH_HWY_EXPORT(BceLogitsBackward)
DLMATH_HWY_EXPORT(KlDiv)
DLMATH_HWY_EXPORT(KlDivBackward)
DLMATH_HWY_EXPORT(PoissonNll)
DLMATH_HWY_EXPORT(PoissonNllBackward)
DLMATH_HWY_EXPORT(GaussianNll)
DLMATH_HWY_EXPORT(GaussianNllBackward)
DLMATH_HWY_EXPORT(ClsRowMax)
DLMATH_HWY_EXPORT(ClsRowExpSum)
DLMATH_HWY_EXPORT(ClsRowWeightedGap)
DLMATH_HWY_EXPORT(ClsRowSoftmaxGrad)
DLMATH_HWY_EXPORT(ClsRowNegLogProb)
DLMATH_HWY_EXPORT(MarginTerms)
DLMATH_HWY_EXPORT(MarginGrad)
DLMATH_HWY_EXPORT(ClsDot3)
DLMATH_HWY_EXPORT(ClsAxpy2)
DLMATH_HWY_EXPORT(FocalTerms)
DLMATH_HWY_EXPORT(FocalGrad)

namespace {

// The `reduction` enum of the losses: "mean|sum|none" (kl_div adds
// "batchmean").
enum Reduction { kMean = 0, kSum = 1, kNone = 2, kBatchMean = 3 };

Reduction ReductionOf(double param) {
  return static_cast<Reduction>(static_cast<int>(param));
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

const char* InputName(const ShapeCtx& c, int k) {
  return FindOp(c.op)->inputs[k].name;
}

Status BadShape(const ShapeCtx& c, int k, const std::string& want,
                const Shape& got) {
  const std::string op(c.op);
  return Status(ErrorCode::kBadShape, op, InputName(c, k),
                "op '" + op + "': input '" + InputName(c, k) +
                    "' must have shape " + want + ", got " + got.str());
}

// Input b must have input a's shape.
Status SameShape(const ShapeCtx& c, int a, int b) {
  if (c.in[a] == c.in[b]) return {};
  return BadShape(c, b,
                  c.in[a].str() + " (the shape of '" + InputName(c, a) + "')",
                  c.in[b]);
}

// Optional input k, when given, must have input 0's shape.
Status SameShapeIfGiven(const ShapeCtx& c, int k) {
  return c.data[k] ? SameShape(c, 0, k) : Status{};
}

// Input k must have shape [n] (`what` says why).
Status VectorOf(const ShapeCtx& c, int k, int64_t n, const char* what) {
  if (c.in[k] == Shape{n}) return {};
  return BadShape(c, k, "[" + std::to_string(n) + "] (" + what + ")", c.in[k]);
}

// kBadValue naming element i of input k and the domain it violates.
Status BadValue(const ShapeCtx& c, int k, int64_t i, float v,
                const char* domain) {
  const std::string op(c.op), name = InputName(c, k);
  return Status(ErrorCode::kBadValue, op, name,
                "op '" + op + "': input '" + name + "' must hold " + domain +
                    ", got " + name + "[" + std::to_string(i) +
                    "] = " + Num(v));
}

// Every value of input k must be -1 or +1.
Status Signs(const ShapeCtx& c, int k) {
  for (int64_t i = 0, n = c.in[k].numel(); i < n; ++i)
    if (c.data[k][i] != 1.0f && c.data[k][i] != -1.0f)
      return BadValue(c, k, i, c.data[k][i], "labels -1 or 1");
  return {};
}

// Every value of input k must be a class index in [0, classes) (or equal
// `ignore` when has_ignore).
Status ClassIndices(const ShapeCtx& c, int k, int64_t classes,
                    bool has_ignore = false, double ignore = 0) {
  const float* v = c.data[k];
  const std::string_view op(c.op);  // no allocation unless an error is built
  for (int64_t i = 0, n = c.in[k].numel(); i < n; ++i) {
    if (!(std::floor(v[i]) == v[i]))
      return Status(ErrorCode::kBadType, std::string(op), InputName(c, k),
                    "op '" + std::string(op) + "': input '" + InputName(c, k) +
                        "' holds class indices, which must be integers; " +
                        "element [" + std::to_string(i) + "] is " + Num(v[i]));
    if (has_ignore && v[i] == ignore) continue;
    if (v[i] < 0 || v[i] >= classes)
      return Status(ErrorCode::kBadValue, std::string(op), InputName(c, k),
                    "op '" + std::string(op) + "': " + InputName(c, k) + "[" +
                        std::to_string(i) + "] = " + Num(v[i]) +
                        " is not a class index in [0, " +
                        std::to_string(classes) + ")" +
                        (has_ignore ? " nor ignore_index " + Num(ignore) : ""));
  }
  return {};
}

// input [N, C] with target [N] class indices and an optional per-class
// vector at input 2 (`per_class` says what it holds, e.g. "one weight per
// class"): multi_margin and focal_multiclass.
Status ClassRows(const ShapeCtx& c, const char* per_class) {
  const Shape& x = c.in[0];
  if (Status s = VectorOf(c, 1, x.dim[0], "one class index per row of input");
      !s.ok())
    return s;
  if (Status s = ClassIndices(c, 1, x.dim[1]); !s.ok()) return s;
  if (c.data[2])
    if (Status s = VectorOf(c, 2, x.dim[1], per_class); !s.ok()) return s;
  return {};
}

// Output: the per-term shape for 'none', else a scalar.
Status SetReduced(const ShapeCtx& c, Reduction r, const Shape& terms) {
  *c.out = r == kNone ? terms : Shape{};
  return {};
}

// The pointwise losses of input and target (equal shapes, any rank): their
// shape check and output.
Status PairShape(const ShapeCtx& c, Reduction r) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  return SetReduced(c, r, c.in[0]);
}

// Input 0's elements: a model's loss input is [rows, outputs], whose two
// dimensions multiply without Shape::numel's loop (V8 gives that loop a
// stack check and LLVM's unrolled remainder: ~30 x86 instructions a call,
// as much as a 10-float MSE's arithmetic).
int64_t Elements(const Shape& s) {
  return s.rank == 2 ? s.dim[0] * s.dim[1] : s.numel();
}

// What a reduced loss divides its sum by: n ('mean'), the first dimension
// ('batchmean'; 1 for a scalar, as PyTorch), else 1. A caller that has
// counted s's elements passes them as n (Shape::numel is a loop: a 10-float
// loss pays for each one).
double Denominator(const Shape& s, Reduction r, int64_t n) {
  if (r == kMean) return static_cast<double>(n);
  if (r == kBatchMean && s.rank > 0) return static_cast<double>(s.dim[0]);
  return 1;
}
double Denominator(const Shape& s, Reduction r) {
  return Denominator(s, r, r == kMean ? Elements(s) : 0);
}

// After a pointwise kernel summed the losses: 'none' has stored them, the
// reductions write out[0] = sum / Denominator (n: input 0's elements).
void StoreReduced(const GenCall<float>& c, Reduction r, double sum, int64_t n) {
  if (r != kNone)
    c.out[0] = static_cast<float>(sum / Denominator(c.in_shape[0], r, n));
}
void StoreReduced(const GenCall<float>& c, Reduction r, double sum) {
  if (r != kNone)
    c.out[0] = static_cast<float>(sum / Denominator(c.in_shape[0], r));
}
float* NoneOut(const GenCall<float>& c, Reduction r) {
  return r == kNone ? c.out : nullptr;
}
// Upstream stride (1 for 'none', else 0: one g for every element) and the
// factor 1 / Denominator.
size_t GradStride(Reduction r) { return r == kNone ? 1 : 0; }
float GradScale(const GenCall<float>& c, Reduction r, int64_t n) {
  return static_cast<float>(1.0 / Denominator(c.in_shape[0], r, n));
}
float GradScale(const GenCall<float>& c, Reduction r) {
  return static_cast<float>(1.0 / Denominator(c.in_shape[0], r));
}

// Upstream gradient of term i of a row loss: dy[i] ('none'), dy[0] ('sum'),
// dy[0] / denom ('mean').
float Upstream(const float* dy, Reduction r, int64_t i, double denom) {
  if (r == kNone) return dy[i];
  return r == kMean ? static_cast<float>(dy[0] / denom) : dy[0];
}

// Per-term losses reduced into out as they come: 'none' stores each term,
// the reductions add them up in double, in order. Nothing is stored, so a
// forward allocates nothing (the training engine calls these every step).
class Terms {
 public:
  Terms(Reduction r, float* out) : r_(r), out_(out) {}
  void Set(int64_t i, double v) {
    if (r_ == kNone) {
      out_[i] = static_cast<float>(v);
    } else {
      sum_ += v;
    }
  }
  // Adds a second part to a term already Set.
  void Add(int64_t i, double v) {
    if (r_ == kNone) {
      out_[i] += static_cast<float>(v);
    } else {
      sum_ += v;
    }
  }
  // Writes the reduced value ('mean' divides by denom).
  void Finish(double denom) const {
    if (r_ != kNone)
      out_[0] = static_cast<float>(r_ == kMean ? sum_ / denom : sum_);
  }

 private:
  Reduction r_;
  float* out_;
  double sum_ = 0;
};

}  // namespace

// ----- mse: mean((input - target)^2) --------------------------------------
// input, target: any shape, equal. reduction 'none' keeps the shape, 'mean'
// and 'sum' give a scalar. Backward: d input = g * 2 (input - target) / n
// ('mean'), d target = -d input. Nothing saved.

Status MseShape(const ShapeCtx& c) {
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(mse, reduction)]));
}

void MseForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(mse, reduction)]);
  const int64_t n = Elements(c.in_shape[0]);
  StoreReduced(c, r,
               DLMATH_DISPATCH(SquaredDiff)(c.in[0], c.in[1], NoneOut(c, r), n),
               n);
}

void MseBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(mse, reduction)]);
  const int64_t n = Elements(c.in_shape[0]);
  DLMATH_DISPATCH(SquaredDiffBackward)
  (c.in[0], c.in[1], c.dy, GradStride(r), 2 * GradScale(c, r, n), c.din[0],
   c.din[1], n);
}

// ----- nll: -weight[t_i] * input[i, t_i] ------------------------------------
// input [N, C] log-probabilities, target [N] class indices (or ignore_index),
// weight [C] optional. 'mean' divides by the summed weight of the targets
// that count (PyTorch), so all-ignored gives NaN. Gather-bound: plain loops.

Status NllShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  if (Status s = VectorOf(c, 1, x.dim[0], "one class index per row of input");
      !s.ok())
    return s;
  if (c.data[2])
    if (Status s = VectorOf(c, 2, x.dim[1], "one weight per class"); !s.ok())
      return s;
  if (Status s = ClassIndices(c, 1, x.dim[1], true,
                              c.p[DLMATH_PARAM(nll, ignore_index)]);
      !s.ok())
    return s;
  return SetReduced(c, ReductionOf(c.p[DLMATH_PARAM(nll, reduction)]),
                    Shape{x.dim[0]});
}

namespace {
// Weight of row i's target (0 when ignored), and the 'mean' denominator.
template <class T>
T NllWeight(const GenCall<T>& c, int64_t i) {
  const T t = c.in[1][i];
  if (t == static_cast<T>(c.p[DLMATH_PARAM(nll, ignore_index)])) return 0;
  return c.in[2] ? c.in[2][static_cast<int64_t>(t)] : T(1);
}
template <class T>
double NllDenominator(const GenCall<T>& c) {
  double w = 0;
  for (int64_t i = 0; i < c.in_shape[0][0]; ++i) w += NllWeight(c, i);
  return w;
}
}  // namespace

void NllForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(nll, reduction)]);
  double sum = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const float w = NllWeight(c, i);
    const float li =
        w == 0 ? 0.0f
               : -w * c.in[0][i * classes + static_cast<int64_t>(c.in[1][i])];
    if (r == kNone) c.out[i] = li;
    sum += li;
  }
  if (r == kSum) c.out[0] = static_cast<float>(sum);
  if (r == kMean) c.out[0] = static_cast<float>(sum / NllDenominator(c));
}

void NllBackward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(nll, reduction)]);
  const double scale = r == kMean ? 1.0 / NllDenominator(c) : 1.0;
  for (int64_t i = 0; i < rows; ++i) {
    const float w = NllWeight(c, i);
    if (w == 0) continue;
    const float g = r == kNone ? c.dy[i] : c.dy[0];
    c.din[0][i * classes + static_cast<int64_t>(c.in[1][i])] -=
        static_cast<float>(w * g * scale);
  }
}

// Pointwise losses below: input, target (and per-element extras) of equal
// shape, any rank; 'none' keeps the shape, 'mean' divides the sum by n.
// The Highway kernels in losses-inl.h do the work; nothing is saved for
// backward (it recomputes from the inputs).

// ----- l1: mean|input - target|, subgradient 0 at input == target. --------

Status L1Shape(const ShapeCtx& c) {
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(l1, reduction)]));
}

void L1Forward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(l1, reduction)]);
  StoreReduced(c, r,
               DLMATH_DISPATCH(AbsDiff)(c.in[0], c.in[1], NoneOut(c, r),
                                        Elements(c.in_shape[0])));
}

void L1Backward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(l1, reduction)]);
  DLMATH_DISPATCH(AbsDiffBackward)
  (c.in[0], c.in[1], c.dy, GradStride(r), GradScale(c, r), c.din[0], c.din[1],
   Elements(c.in_shape[0]));
}

// ----- huber: quadratic within delta of the target, linear beyond. -------

Status HuberShape(const ShapeCtx& c) {
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(huber, reduction)]));
}

void HuberForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(huber, reduction)]);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(Huber)(
          c.in[0], c.in[1], static_cast<float>(c.p[DLMATH_PARAM(huber, delta)]),
          NoneOut(c, r), Elements(c.in_shape[0])));
}

void HuberBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(huber, reduction)]);
  DLMATH_DISPATCH(HuberBackward)
  (c.in[0], c.in[1], c.dy, GradStride(r), GradScale(c, r),
   static_cast<float>(c.p[DLMATH_PARAM(huber, delta)]), c.din[0], c.din[1],
   Elements(c.in_shape[0]));
}

// ----- smooth_l1: huber / beta (beta = delta); beta = 0 is exactly l1. ----

Status SmoothL1Shape(const ShapeCtx& c) {
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(smooth_l1, reduction)]));
}

void SmoothL1Forward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(smooth_l1, reduction)]);
  const float beta = static_cast<float>(c.p[DLMATH_PARAM(smooth_l1, beta)]);
  const size_t n = Elements(c.in_shape[0]);
  const double sum =
      beta == 0
          ? DLMATH_DISPATCH(AbsDiff)(c.in[0], c.in[1], NoneOut(c, r), n)
          : DLMATH_DISPATCH(SmoothL1)(c.in[0], c.in[1], beta, NoneOut(c, r), n);
  StoreReduced(c, r, sum);
}

void SmoothL1Backward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(smooth_l1, reduction)]);
  const float beta = static_cast<float>(c.p[DLMATH_PARAM(smooth_l1, beta)]);
  const size_t n = Elements(c.in_shape[0]);
  if (beta == 0) {
    DLMATH_DISPATCH(AbsDiffBackward)
    (c.in[0], c.in[1], c.dy, GradStride(r), GradScale(c, r), c.din[0], c.din[1],
     n);
    return;
  }
  DLMATH_DISPATCH(SmoothL1Backward)
  (c.in[0], c.in[1], c.dy, GradStride(r), GradScale(c, r), beta, c.din[0],
   c.din[1], n);
}

// ----- bce: binary cross-entropy on probabilities. ------------------------
// input in [0, 1] (checked, as PyTorch), target, weight (optional): equal
// shapes.

Status BceShape(const ShapeCtx& c) {
  if (Status s = SameShapeIfGiven(c, 2); !s.ok()) return s;
  const int64_t n = c.in[0].numel();
  for (int64_t i = 0; i < n; ++i) {
    const float v = c.data[0][i];
    if (!(v >= 0 && v <= 1))
      return BadValue(c, 0, i, v, "probabilities in [0, 1]");
  }
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(bce, reduction)]));
}

void BceForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(bce, reduction)]);
  StoreReduced(c, r,
               DLMATH_DISPATCH(Bce)(c.in[0], c.in[1], c.in[2], NoneOut(c, r),
                                    Elements(c.in_shape[0])));
}

void BceBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(bce, reduction)]);
  DLMATH_DISPATCH(BceBackward)
  (c.in[0], c.in[1], c.in[2], c.dy, GradStride(r), GradScale(c, r), c.din[0],
   c.din[1], Elements(c.in_shape[0]));
}

// ----- bce_with_logits: sigmoid + binary cross-entropy, fused. ------------
// input [..., C] logits, target and weight (optional) of its shape,
// pos_weight [C] (optional) broadcast along the last dimension: the kernel
// then runs once per row of C with pos_weight beside it.

Status BceWithLogitsShape(const ShapeCtx& c) {
  if (Status s = SameShapeIfGiven(c, 2); !s.ok()) return s;
  if (c.data[3] && (c.in[0].rank == 0 || !(c.in[3] == Shape{c.in[0].cols()})))
    return BadShape(
        c, 3,
        "[" + std::to_string(c.in[0].cols()) + "] (the last dimension of " +
            "input " + c.in[0].str() +
            (c.in[0].rank == 0 ? ", which must not be a scalar" : "") + ")",
        c.in[3]);
  return PairShape(c,
                   ReductionOf(c.p[DLMATH_PARAM(bce_with_logits, reduction)]));
}

void BceWithLogitsForward(const GenCall<float>& c) {
  const Reduction r =
      ReductionOf(c.p[DLMATH_PARAM(bce_with_logits, reduction)]);
  const float *x = c.in[0], *y = c.in[1], *w = c.in[2], *pw = c.in[3];
  float* out = NoneOut(c, r);
  const size_t n = Elements(c.in_shape[0]);
  double sum = 0;
  if (!pw) {
    sum = DLMATH_DISPATCH(BceLogits)(x, y, w, nullptr, out, n);
  } else {
    const size_t cols = c.in_shape[0].cols();
    for (size_t i = 0; i < n; i += cols)
      sum += DLMATH_DISPATCH(BceLogits)(x + i, y + i, w ? w + i : nullptr, pw,
                                        out ? out + i : nullptr, cols);
  }
  StoreReduced(c, r, sum);
}

void BceWithLogitsBackward(const GenCall<float>& c) {
  const Reduction r =
      ReductionOf(c.p[DLMATH_PARAM(bce_with_logits, reduction)]);
  const float *x = c.in[0], *y = c.in[1], *w = c.in[2], *pw = c.in[3];
  float *dx = c.din[0], *dy = c.din[1];
  const size_t n = Elements(c.in_shape[0]), stride = GradStride(r);
  const float k = GradScale(c, r);
  if (!pw) {
    DLMATH_DISPATCH(BceLogitsBackward)
    (x, y, w, nullptr, c.dy, stride, k, dx, dy, n);
    return;
  }
  const size_t cols = c.in_shape[0].cols();
  for (size_t i = 0; i < n; i += cols) {
    DLMATH_DISPATCH(BceLogitsBackward)
    (x + i, y + i, w ? w + i : nullptr, pw, c.dy + (stride ? i : 0), stride, k,
     dx ? dx + i : nullptr, dy ? dy + i : nullptr, cols);
  }
}

// ----- kl_div: KL(target || exp(input)), pointwise. -----------------------

Status KlDivShape(const ShapeCtx& c) {
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(kl_div, reduction)]));
}

void KlDivForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(kl_div, reduction)]);
  StoreReduced(c, r,
               DLMATH_DISPATCH(KlDiv)(
                   c.in[0], c.in[1], c.p[DLMATH_PARAM(kl_div, log_target)] != 0,
                   NoneOut(c, r), Elements(c.in_shape[0])));
}

void KlDivBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(kl_div, reduction)]);
  DLMATH_DISPATCH(KlDivBackward)
  (c.in[0], c.in[1], c.p[DLMATH_PARAM(kl_div, log_target)] != 0, c.dy,
   GradStride(r), GradScale(c, r), c.din[0], c.din[1], Elements(c.in_shape[0]));
}

// ----- poisson_nll: Poisson negative log-likelihood of counts. ------------
// params: reduction, log_input, full, eps.

Status PoissonNllShape(const ShapeCtx& c) {
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(poisson_nll, reduction)]));
}

void PoissonNllForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(poisson_nll, reduction)]);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(PoissonNll)(
          c.in[0], c.in[1], c.p[DLMATH_PARAM(poisson_nll, log_input)] != 0,
          c.p[DLMATH_PARAM(poisson_nll, full)] != 0,
          static_cast<float>(c.p[DLMATH_PARAM(poisson_nll, eps)]),
          NoneOut(c, r), Elements(c.in_shape[0])));
}

void PoissonNllBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(poisson_nll, reduction)]);
  DLMATH_DISPATCH(PoissonNllBackward)
  (c.in[0], c.in[1], c.p[DLMATH_PARAM(poisson_nll, log_input)] != 0,
   c.p[DLMATH_PARAM(poisson_nll, full)] != 0,
   static_cast<float>(c.p[DLMATH_PARAM(poisson_nll, eps)]), c.dy, GradStride(r),
   GradScale(c, r), c.din[0], c.din[1], Elements(c.in_shape[0]));
}

// ----- gaussian_nll: Gaussian negative log-likelihood with a predicted ----
// variance. input, target, var of equal shape; var >= 0 (checked, as
// PyTorch). params: reduction, full, eps.

Status GaussianNllShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 2); !s.ok()) return s;
  const int64_t n = c.in[2].numel();
  for (int64_t i = 0; i < n; ++i)
    if (c.data[2][i] < 0)
      return BadValue(c, 2, i, c.data[2][i], "variances >= 0");
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(gaussian_nll, reduction)]));
}

void GaussianNllForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(gaussian_nll, reduction)]);
  StoreReduced(c, r,
               DLMATH_DISPATCH(GaussianNll)(
                   c.in[0], c.in[1], c.in[2],
                   static_cast<float>(c.p[DLMATH_PARAM(gaussian_nll, eps)]),
                   c.p[DLMATH_PARAM(gaussian_nll, full)] != 0, NoneOut(c, r),
                   Elements(c.in_shape[0])));
}

void GaussianNllBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(gaussian_nll, reduction)]);
  DLMATH_DISPATCH(GaussianNllBackward)
  (c.in[0], c.in[1], c.in[2],
   static_cast<float>(c.p[DLMATH_PARAM(gaussian_nll, eps)]), c.dy,
   GradStride(r), GradScale(c, r), c.din[0], c.din[1], c.din[2],
   Elements(c.in_shape[0]));
}

// ===========================================================================
// Classification, ranking and sequence losses.

// ----- cross_entropy: log_softmax + nll, fused ------------------------------
// input [N, C] logits; target [N] class indices (or ignore_index) or [N, C]
// probabilities; weight [C] optional. Row i gets target weights a_c (index
// form: (1 - eps) w_t [c = t] + eps/C w_c; probabilities: w_c ((1 - eps)
// t_c + eps/C)), loss_i = A log S + sum_c a_c (m - x_c) with m the row max,
// S = sum e^(x - m), A = sum_c a_c: both parts >= 0, so logits of any finite
// size (1e4) stay accurate. 'mean' divides by the summed weights of the
// counted targets (index form) or by N (probabilities), as PyTorch.
// Backward: dx_c += g (A p_c - a_c), one pass per row; with probability
// targets also dt_c += -g (1 - eps) w_c log p_c = g (1 - eps) w_c (m + log S
// - x_c) (PyTorch's gradient for soft targets). Class indices get no target
// gradient: they are labels, not values. Saved: m, log S and A per row
// (workspace 3N). Error ~ 1e-7 relative.

Status CrossEntropyShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const int64_t rows = x.dim[0], classes = x.dim[1];
  if (c.in[1].rank == 1) {
    if (Status s = VectorOf(c, 1, rows, "one class index per row of input");
        !s.ok())
      return s;
    if (Status s = ClassIndices(c, 1, classes, true,
                                c.p[DLMATH_PARAM(cross_entropy, ignore_index)]);
        !s.ok())
      return s;
  } else if (Status s = SameShape(c, 0, 1); !s.ok()) {
    return s;
  }
  if (c.data[2])
    if (Status s = VectorOf(c, 2, classes, "one weight per class"); !s.ok())
      return s;
  *c.workspace = 3 * rows;
  return SetReduced(c, ReductionOf(c.p[DLMATH_PARAM(cross_entropy, reduction)]),
                    Shape{rows});
}

namespace {
struct CeRows {
  int64_t rows, classes;
  bool index;
  double eps, ignore, wall;  // wall: sum of the class weights (C if none)
  const float *x, *t, *w;
  bool Ignored(int64_t i) const { return index && t[i] == ignore; }
};
CeRows CeOf(const GenCall<float>& c) {
  CeRows e{.rows = c.in_shape[0][0],
           .classes = c.in_shape[0][1],
           .index = c.in_shape[1].rank == 1,
           .eps = c.p[DLMATH_PARAM(cross_entropy, label_smoothing)],
           .ignore = c.p[DLMATH_PARAM(cross_entropy, ignore_index)],
           .wall = 0,
           .x = c.in[0],
           .t = c.in[1],
           .w = c.in[2]};
  if (e.w) {
    for (int64_t j = 0; j < e.classes; ++j) e.wall += e.w[j];
  } else {
    e.wall = static_cast<double>(e.classes);
  }
  return e;
}
// 'mean' denominator.
double CeDenominator(const CeRows& e) {
  if (!e.index) return static_cast<double>(e.rows);
  double s = 0;
  for (int64_t i = 0; i < e.rows; ++i)
    if (!e.Ignored(i)) s += e.w ? e.w[static_cast<int64_t>(e.t[i])] : 1.0;
  return s;
}
}  // namespace

void CrossEntropyForward(const GenCall<float>& c) {
  const CeRows e = CeOf(c);
  const int64_t C = e.classes;
  Terms terms(ReductionOf(c.p[DLMATH_PARAM(cross_entropy, reduction)]), c.out);
  for (int64_t i = 0; i < e.rows; ++i) {
    float* saved = c.ws + 3 * i;
    saved[0] = saved[1] = saved[2] = 0;
    const float* x = e.x + i * C;
    if (e.Ignored(i)) {
      terms.Set(i, 0);
      continue;
    }
    const float m = DLMATH_DISPATCH(ClsRowMax)(x, C);
    const double lse = std::log(DLMATH_DISPATCH(ClsRowExpSum)(x, C, m));
    double wt_sum,
        loss;  // the target's part: sum_c w_c t_c, sum_c ... (m - x_c)
    if (e.index) {
      const int64_t k = static_cast<int64_t>(e.t[i]);
      wt_sum = e.w ? e.w[k] : 1.0;
      loss = wt_sum * (double{m} - x[k]);
    } else {
      loss = DLMATH_DISPATCH(ClsRowWeightedGap)(x, e.w, e.t + i * C, C, m,
                                                &wt_sum);
    }
    loss *= 1 - e.eps;
    if (e.eps > 0) {
      double unused;
      loss +=
          e.eps / C *
          DLMATH_DISPATCH(ClsRowWeightedGap)(x, e.w, nullptr, C, m, &unused);
    }
    const double a_sum = (1 - e.eps) * wt_sum + e.eps / C * e.wall;
    terms.Set(i, loss + a_sum * lse);
    saved[0] = m;
    saved[1] = static_cast<float>(lse);
    saved[2] = static_cast<float>(a_sum);
  }
  terms.Finish(CeDenominator(e));
}

void CrossEntropyBackward(const GenCall<float>& c) {
  const CeRows e = CeOf(c);
  const int64_t C = e.classes;
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(cross_entropy, reduction)]);
  const double denom = r == kMean ? CeDenominator(e) : 1.0;
  float* const dt = e.index ? nullptr : c.din[1];
  for (int64_t i = 0; i < e.rows; ++i) {
    if (e.Ignored(i)) continue;
    const float* saved = c.ws + 3 * i;
    const float* x = e.x + i * C;
    const float g = Upstream(c.dy, r, i, denom);
    const float u = static_cast<float>(g * (1 - e.eps));
    if (float* dx = c.din[0] ? c.din[0] + i * C : nullptr) {
      const float s = static_cast<float>(g * e.eps / C);
      DLMATH_DISPATCH(ClsRowSoftmaxGrad)
      (x, e.w, e.index ? nullptr : e.t + i * C, saved[0], saved[1],
       g * saved[2], s, u, dx, C);
      if (e.index) {
        const int64_t k = static_cast<int64_t>(e.t[i]);
        dx[k] -= u * (e.w ? e.w[k] : 1.0f);
      }
    }
    if (dt) DLMATH_DISPATCH(ClsRowNegLogProb)
    (x, e.w, saved[0], saved[1], u, dt + i * C, C);
  }
}

// ----- hinge: max(0, margin - y x) ------------------------------------------
// input, target: any shape, equal; target holds labels -1 / +1. Params
// margin, reduction. Backward: d input = -g y where margin - y x >= 0.

Status HingeShape(const ShapeCtx& c) {
  if (Status s = Signs(c, 1); !s.ok()) return s;
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(hinge, reduction)]));
}

void HingeForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(hinge, reduction)]);
  const float margin = static_cast<float>(c.p[DLMATH_PARAM(hinge, margin)]);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(MarginTerms)(c.in[0], nullptr, c.in[1], margin,
                                   NoneOut(c, r), Elements(c.in_shape[0])));
}

void HingeBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(hinge, reduction)]);
  DLMATH_DISPATCH(MarginGrad)
  (c.in[0], nullptr, c.in[1],
   static_cast<float>(c.p[DLMATH_PARAM(hinge, margin)]), c.dy, GradStride(r),
   GradScale(c, r), c.din[0], nullptr, Elements(c.in_shape[0]));
}

// ----- margin_ranking: max(0, -y (x1 - x2) + margin) ------------------------
// input1, input2, target: any shape, equal; target -1 / +1. Params margin,
// reduction. Backward: d input1 = -g y, d input2 = g y where active.

Status MarginRankingShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 2); !s.ok()) return s;
  if (Status s = Signs(c, 2); !s.ok()) return s;
  return PairShape(c,
                   ReductionOf(c.p[DLMATH_PARAM(margin_ranking, reduction)]));
}

void MarginRankingForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(margin_ranking, reduction)]);
  const float margin =
      static_cast<float>(c.p[DLMATH_PARAM(margin_ranking, margin)]);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(MarginTerms)(c.in[0], c.in[1], c.in[2], margin,
                                   NoneOut(c, r), Elements(c.in_shape[0])));
}

void MarginRankingBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(margin_ranking, reduction)]);
  DLMATH_DISPATCH(MarginGrad)
  (c.in[0], c.in[1], c.in[2],
   static_cast<float>(c.p[DLMATH_PARAM(margin_ranking, margin)]), c.dy,
   GradStride(r), GradScale(c, r), c.din[0], c.din[1], Elements(c.in_shape[0]));
}

// ----- cosine_embedding ----------------------------------------------------
// input1, input2 [N, D], target [N] -1 / +1. cos = <a, b> / sqrt((|a|^2 +
// 1e-12)(|b|^2 + 1e-12)) (PyTorch's epsilon on the squared norms); y = 1:
// 1 - cos, y = -1: max(0, cos - margin). Backward: d cos / d a = b /
// sqrt(..) - cos a / (|a|^2 + 1e-12), likewise for b. The three dot products
// share one Highway pass (double block totals). Error ~1e-7. Nothing saved.

Status CosineEmbeddingShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  if (Status s = VectorOf(c, 2, c.in[0].dim[0], "one label per row of input1");
      !s.ok())
    return s;
  if (Status s = Signs(c, 2); !s.ok()) return s;
  return SetReduced(c,
                    ReductionOf(c.p[DLMATH_PARAM(cosine_embedding, reduction)]),
                    Shape{c.in[0].dim[0]});
}

namespace {
// cos of row i, and the squared norms plus epsilon.
double CosRow(const GenCall<float>& c, int64_t i, double* na, double* nb) {
  const int64_t d = c.in_shape[0][1];
  double ab, aa, bb;
  DLMATH_DISPATCH(ClsDot3)(c.in[0] + i * d, c.in[1] + i * d, d, &ab, &aa, &bb);
  *na = aa + 1e-12;
  *nb = bb + 1e-12;
  return ab / std::sqrt(*na * *nb);
}
}  // namespace

void CosineEmbeddingForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0];
  Terms terms(ReductionOf(c.p[DLMATH_PARAM(cosine_embedding, reduction)]),
              c.out);
  const double margin = c.p[DLMATH_PARAM(cosine_embedding, margin)];
  for (int64_t i = 0; i < rows; ++i) {
    double na, nb;
    const double cs = CosRow(c, i, &na, &nb);
    terms.Set(i, c.in[2][i] > 0 ? 1 - cs : std::max(0.0, cs - margin));
  }
  terms.Finish(static_cast<double>(rows));
}

void CosineEmbeddingBackward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const Reduction r =
      ReductionOf(c.p[DLMATH_PARAM(cosine_embedding, reduction)]);
  for (int64_t i = 0; i < rows; ++i) {
    double na, nb;
    const double cs = CosRow(c, i, &na, &nb);
    double k;  // d loss / d cos
    if (c.in[2][i] > 0) {
      k = -1;
    } else {
      if (cs - c.p[DLMATH_PARAM(cosine_embedding, margin)] < 0) continue;
      k = 1;
    }
    k *= Upstream(c.dy, r, i, static_cast<double>(rows));
    const double inv = 1 / std::sqrt(na * nb);
    const float* a = c.in[0] + i * d;
    const float* b = c.in[1] + i * d;
    if (c.din[0]) DLMATH_DISPATCH(ClsAxpy2)
    (b, static_cast<float>(k * inv), a, static_cast<float>(-k * cs / na),
     c.din[0] + i * d, d);
    if (c.din[1]) DLMATH_DISPATCH(ClsAxpy2)
    (a, static_cast<float>(k * inv), b, static_cast<float>(-k * cs / nb),
     c.din[1] + i * d, d);
  }
}

// ----- multi_margin --------------------------------------------------------
// input [N, C], target [N] class indices, weight [C] optional. loss_i =
// w_y / C sum_{c != y} max(0, margin - x_y + x_c)^p, p in {1, 2}: divided by
// the number of classes C, as PyTorch; 'mean' then averages over N.
// Gather-bound rows: plain loops with double sums. Nothing saved.

Status MultiMarginShape(const ShapeCtx& c) {
  if (Status s = ClassRows(c, "one weight per class"); !s.ok()) return s;
  return SetReduced(c, ReductionOf(c.p[DLMATH_PARAM(multi_margin, reduction)]),
                    Shape{c.in[0].dim[0]});
}

void MultiMarginForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const bool square = c.p[DLMATH_PARAM(multi_margin, p)] == 2;
  const float margin =
      static_cast<float>(c.p[DLMATH_PARAM(multi_margin, margin)]);
  Terms terms(ReductionOf(c.p[DLMATH_PARAM(multi_margin, reduction)]), c.out);
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = c.in[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    double s = 0;
    for (int64_t j = 0; j < classes; ++j) {
      const float z = margin - x[y] + x[j];
      if (j != y && z > 0) s += square ? double{z} * z : z;
    }
    terms.Set(i, s * (c.in[2] ? c.in[2][y] : 1.0f) / classes);
  }
  terms.Finish(static_cast<double>(rows));
}

void MultiMarginBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const bool square = c.p[DLMATH_PARAM(multi_margin, p)] == 2;
  const float margin =
      static_cast<float>(c.p[DLMATH_PARAM(multi_margin, margin)]);
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(multi_margin, reduction)]);
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = c.in[0] + i * classes;
    float* dx = c.din[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    const float k = Upstream(c.dy, r, i, static_cast<double>(rows)) *
                    (c.in[2] ? c.in[2][y] : 1.0f) / classes;
    double dy_sum = 0;
    for (int64_t j = 0; j < classes; ++j) {
      const float z = margin - x[y] + x[j];
      if (j == y || !(z > 0)) continue;
      const float g = square ? 2 * z * k : k;
      dx[j] += g;
      dy_sum += g;
    }
    dx[y] -= static_cast<float>(dy_sum);
  }
}

// ----- focal (torchvision sigmoid_focal_loss) --------------------------------
// input: logits, any shape; target: same shape, values in [0, 1]. Params
// alpha (< 0: no class balancing), gamma, reduction (default 'none', as
// torchvision). The lanes do everything (FocalCore in losses-inl.h).
// Nothing saved.

Status FocalShape(const ShapeCtx& c) {
  const float* t = c.data[1];
  for (int64_t i = 0, n = c.in[1].numel(); i < n; ++i)
    if (!(t[i] >= 0 && t[i] <= 1))
      return BadValue(c, 1, i, t[i], "values in [0, 1]");
  return PairShape(c, ReductionOf(c.p[DLMATH_PARAM(focal, reduction)]));
}

void FocalForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(focal, reduction)]);
  const float alpha = static_cast<float>(c.p[DLMATH_PARAM(focal, alpha)]);
  const float gamma = static_cast<float>(c.p[DLMATH_PARAM(focal, gamma)]);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(FocalTerms)(c.in[0], c.in[1], alpha, gamma, NoneOut(c, r),
                                  Elements(c.in_shape[0])));
}

void FocalBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(focal, reduction)]);
  DLMATH_DISPATCH(FocalGrad)
  (c.in[0], c.in[1], static_cast<float>(c.p[DLMATH_PARAM(focal, alpha)]),
   static_cast<float>(c.p[DLMATH_PARAM(focal, gamma)]), c.dy, GradStride(r),
   GradScale(c, r), c.din[0], Elements(c.in_shape[0]));
}

// ----- focal_multiclass: -alpha_t (1 - p_t)^gamma log p_t ------------------
// input [N, C] logits, target [N] class indices, alpha [C] optional. log p_t
// = (x_t - m) - log S (never formed from p), 1 - p_t = -expm1(log p_t), so
// confident rows keep their tiny loss. Backward: d loss / d x_c = alpha_t K
// ([c = t] - p_c), K = (1 - p_t)^gamma (gamma p_t log p_t / (1 - p_t) - 1),
// one Highway pass per row. Saved: m and log S per row (workspace 2N).

Status FocalMulticlassShape(const ShapeCtx& c) {
  if (Status s = ClassRows(c, "one alpha per class"); !s.ok()) return s;
  *c.workspace = 2 * c.in[0].dim[0];
  return SetReduced(c,
                    ReductionOf(c.p[DLMATH_PARAM(focal_multiclass, reduction)]),
                    Shape{c.in[0].dim[0]});
}

void FocalMulticlassForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const double gamma = c.p[DLMATH_PARAM(focal_multiclass, gamma)];
  Terms terms(ReductionOf(c.p[DLMATH_PARAM(focal_multiclass, reduction)]),
              c.out);
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = c.in[0] + i * classes;
    const int64_t t = static_cast<int64_t>(c.in[1][i]);
    const float m = DLMATH_DISPATCH(ClsRowMax)(x, classes);
    const double lse = std::log(DLMATH_DISPATCH(ClsRowExpSum)(x, classes, m));
    const double lp = (double{x[t]} - m) - lse;
    const double at = c.in[2] ? c.in[2][t] : 1.0;
    terms.Set(i, -at * std::pow(-std::expm1(lp), gamma) * lp);
    c.ws[2 * i] = m;
    c.ws[2 * i + 1] = static_cast<float>(lse);
  }
  terms.Finish(static_cast<double>(rows));
}

void FocalMulticlassBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const double gamma = c.p[DLMATH_PARAM(focal_multiclass, gamma)];
  const Reduction r =
      ReductionOf(c.p[DLMATH_PARAM(focal_multiclass, reduction)]);
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = c.in[0] + i * classes;
    const int64_t t = static_cast<int64_t>(c.in[1][i]);
    const float m = c.ws[2 * i], lse = c.ws[2 * i + 1];
    const double lp = (double{x[t]} - m) - lse;
    const double p = std::exp(lp), q = -std::expm1(lp);
    const double ratio = q > 0 ? lp / q : -1.0;  // log p / (1 - p) -> -1
    const double k = std::pow(q, gamma) * (gamma * p * ratio - 1) *
                     (c.in[2] ? c.in[2][t] : 1.0) *
                     Upstream(c.dy, r, i, static_cast<double>(rows));
    float* dx = c.din[0] + i * classes;
    DLMATH_DISPATCH(ClsRowSoftmaxGrad)
    (x, nullptr, nullptr, m, lse, static_cast<float>(-k), 0.0f, 0.0f, dx,
     classes);
    dx[t] += static_cast<float>(k);
  }
}

// ----- triplet_margin ------------------------------------------------------
// anchor, positive, negative [N, D]. d(a, b) = ||a - b + eps||_p per row
// (PyTorch's pairwise_distance adds eps to the difference); loss = max(0,
// margin + d(a, p) - d(a, n)), with d(a, n) replaced by d(p, n) when swap
// and smaller. Row sums in double; |v|^p through pow, squares for p = 2.
// Error ~1e-7. Nothing saved.

Status TripletMarginShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  if (Status s = SameShape(c, 0, 2); !s.ok()) return s;
  return SetReduced(c,
                    ReductionOf(c.p[DLMATH_PARAM(triplet_margin, reduction)]),
                    Shape{c.in[0].dim[0]});
}

namespace {
double PDistF(const float* a, const float* b, int64_t d, double p, double eps) {
  double s = 0;
  if (p == 2) {
    for (int64_t k = 0; k < d; ++k) {
      const double v = double{a[k]} - b[k] + eps;
      s += v * v;
    }
    return std::sqrt(s);
  }
  for (int64_t k = 0; k < d; ++k)
    s += std::pow(std::fabs(double{a[k]} - b[k] + eps), p);
  return std::pow(s, 1 / p);
}
// da += k d dist / d a, db -= the same; d ||v||_p / d v_j = sign(v_j)
// (|v_j| / ||v||)^(p - 1).
void PDistGradF(const float* a, const float* b, int64_t d, double p, double eps,
                double k, float* da, float* db) {
  const double dist = PDistF(a, b, d, p, eps);
  if (dist == 0) return;
  for (int64_t j = 0; j < d; ++j) {
    const double v = double{a[j]} - b[j] + eps;
    if (v == 0) continue;
    const double g =
        p == 2 ? k * v / dist
               : k * std::copysign(std::pow(std::fabs(v) / dist, p - 1), v);
    if (da) da[j] += static_cast<float>(g);
    if (db) db[j] -= static_cast<float>(g);
  }
}
}  // namespace

void TripletMarginForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const double pw = c.p[DLMATH_PARAM(triplet_margin, p)],
               eps = c.p[DLMATH_PARAM(triplet_margin, eps)];
  Terms terms(ReductionOf(c.p[DLMATH_PARAM(triplet_margin, reduction)]), c.out);
  for (int64_t i = 0; i < rows; ++i) {
    const float *a = c.in[0] + i * d, *po = c.in[1] + i * d,
                *ne = c.in[2] + i * d;
    double dn = PDistF(a, ne, d, pw, eps);
    if (c.p[DLMATH_PARAM(triplet_margin, swap)] != 0)
      dn = std::min(dn, PDistF(po, ne, d, pw, eps));
    terms.Set(i, std::max(0.0, c.p[DLMATH_PARAM(triplet_margin, margin)] +
                                   PDistF(a, po, d, pw, eps) - dn));
  }
  terms.Finish(static_cast<double>(rows));
}

void TripletMarginBackward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const double pw = c.p[DLMATH_PARAM(triplet_margin, p)],
               eps = c.p[DLMATH_PARAM(triplet_margin, eps)];
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(triplet_margin, reduction)]);
  for (int64_t i = 0; i < rows; ++i) {
    const float *a = c.in[0] + i * d, *po = c.in[1] + i * d,
                *ne = c.in[2] + i * d;
    float* da = c.din[0] ? c.din[0] + i * d : nullptr;
    float* dpo = c.din[1] ? c.din[1] + i * d : nullptr;
    float* dne = c.din[2] ? c.din[2] + i * d : nullptr;
    const double dan = PDistF(a, ne, d, pw, eps);
    const double dpn = c.p[DLMATH_PARAM(triplet_margin, swap)] != 0
                           ? PDistF(po, ne, d, pw, eps)
                           : dan;
    const bool swapped = dpn < dan;
    if (c.p[DLMATH_PARAM(triplet_margin, margin)] + PDistF(a, po, d, pw, eps) -
            (swapped ? dpn : dan) <
        0)
      continue;
    const double g = Upstream(c.dy, r, i, static_cast<double>(rows));
    PDistGradF(a, po, d, pw, eps, g, da, dpo);
    if (swapped) {
      PDistGradF(po, ne, d, pw, eps, -g, dpo, dne);
    } else {
      PDistGradF(a, ne, d, pw, eps, -g, da, dne);
    }
  }
}

// ----- info_nce ------------------------------------------------------------
// query, key [N, D]; row i of key is query i's positive, the other rows its
// negatives. logits = q^ k^T / tau (Eigen GEMM; q^, k^ the rows scaled by
// 1 / max(|v|, 1e-12) as F.normalize, or unscaled when normalize is off),
// row term i = log-sum-exp of logits row i - logits_ii (Highway row passes).
// symmetric (CLIP): term i is the mean of row i's term and column i's (the
// same over logits^T: each key must also pick its own query), so 'mean' is
// CLIP's (row loss + column loss) / 2. Backward: G = sum over the terms of
// g (softmax - I) / tau (half each when symmetric; the column part is built
// on logits^T and added transposed), dq^ = G k^, dk^ = G^T q^, then back
// through the scaling. Workspace: q^, k^ (2ND), their scales (2N), the
// logits (N^2), m and log S per row (2N), G, dq^, dk^ as backward scratch
// (N^2 + 2ND), and when symmetric logits^T, its m and log S and its part of
// G (2N^2 + 2N). Error: the float32 logits carry ~6e-8 of their size, which
// the softmax turns into the same absolute error in every probability: up
// to ~2e-5 relative in the gradient when raw (unnormalised) logits reach
// 100, 2e-7 in the value.

Status InfoNceShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  const int64_t n = c.in[0].dim[0], d = c.in[0].dim[1];
  const bool symmetric = c.p[DLMATH_PARAM(info_nce, symmetric)] != 0;
  *c.workspace =
      4 * n * d + 4 * n + 2 * n * n + (symmetric ? 2 * n * n + 2 * n : 0);
  return SetReduced(c, ReductionOf(c.p[DLMATH_PARAM(info_nce, reduction)]),
                    Shape{n});
}

namespace {
using MatR =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Mat = Eigen::Map<MatR>;
struct NceWs {
  float *q, *k, *qn, *kn, *logits, *ml, *g, *dq, *dk;
  float *logits_t, *ml_t, *g_t;  // symmetric only
};
NceWs NceOf(const GenCall<float>& c) {
  const int64_t n = c.in_shape[0][0], d = c.in_shape[0][1];
  NceWs w;
  w.q = c.ws;
  w.k = w.q + n * d;
  w.qn = w.k + n * d;
  w.kn = w.qn + n;
  w.logits = w.kn + n;
  w.ml = w.logits + n * n;
  w.g = w.ml + 2 * n;
  w.dq = w.g + n * n;
  w.dk = w.dq + n * d;
  w.logits_t = w.dk + n * d;
  w.ml_t = w.logits_t + n * n;
  w.g_t = w.ml_t + 2 * n;
  return w;
}
// Scaled copies of the rows and the scales used (1 without normalize).
void NceUnit(const float* v, int64_t n, int64_t d, bool normalize, float* out,
             float* norm) {
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += double{v[i * d + k]} * v[i * d + k];
    const double nv = normalize ? std::max(std::sqrt(s), 1e-12) : 1.0;
    norm[i] = static_cast<float>(nv);
    for (int64_t k = 0; k < d; ++k)
      out[i * d + k] = static_cast<float>(v[i * d + k] / nv);
  }
}
// dx += (du - u <u, du>) / norm (normalized, above the clamp), else du /
// norm.
void NceUnitBack(const float* u, const float* du, const float* norm, int64_t n,
                 int64_t d, bool normalize, float* dx) {
  for (int64_t i = 0; i < n; ++i) {
    double dot = 0;
    for (int64_t k = 0; k < d; ++k) dot += double{u[i * d + k]} * du[i * d + k];
    const bool plain = !normalize || norm[i] <= 1e-12f;
    for (int64_t k = 0; k < d; ++k)
      dx[i * d + k] += static_cast<float>(
          (du[i * d + k] - (plain ? 0.0 : u[i * d + k] * dot)) / norm[i]);
  }
}
// Term i (add: its second part) is k (log-sum-exp of row i - logits_ii)
// over an [n, n] matrix; saves each row's max and log-sum in ml.
void NceRowTerms(const float* logits, int64_t n, double k, float* ml, bool add,
                 Terms* terms) {
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits + i * n;
    const float m = DLMATH_DISPATCH(ClsRowMax)(row, n);
    const double lse = std::log(DLMATH_DISPATCH(ClsRowExpSum)(row, n, m));
    const double v = k * ((double{m} - row[i]) + lse);
    if (add) {
      terms->Add(i, v);
    } else {
      terms->Set(i, v);
    }
    ml[2 * i] = m;
    ml[2 * i + 1] = static_cast<float>(lse);
  }
}
// g = the gradient of sum_i u_i (row term i) with respect to the logits,
// u_i = k * upstream of term i: rows u_i (softmax(row i) - e_i).
void NceRowGrad(const float* logits, const float* ml, int64_t n,
                const GenCall<float>& c, Reduction r, double k, float* g) {
  std::fill(g, g + n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float u =
        static_cast<float>(k * Upstream(c.dy, r, i, static_cast<double>(n)));
    DLMATH_DISPATCH(ClsRowSoftmaxGrad)
    (logits + i * n, nullptr, nullptr, ml[2 * i], ml[2 * i + 1], u, 0.0f, 0.0f,
     g + i * n, n);
    g[i * n + i] -= u;
  }
}
}  // namespace

void InfoNceForward(const GenCall<float>& c) {
  const int64_t n = c.in_shape[0][0], d = c.in_shape[0][1];
  const bool normalize = c.p[DLMATH_PARAM(info_nce, normalize)] != 0;
  const bool symmetric = c.p[DLMATH_PARAM(info_nce, symmetric)] != 0;
  const double tau = c.p[DLMATH_PARAM(info_nce, temperature)];
  const NceWs w = NceOf(c);
  NceUnit(c.in[0], n, d, normalize, w.q, w.qn);
  NceUnit(c.in[1], n, d, normalize, w.k, w.kn);
  Mat(w.logits, n, n).noalias() =
      Mat(w.q, n, d) * Mat(w.k, n, d).transpose() * static_cast<float>(1 / tau);
  Terms terms(ReductionOf(c.p[DLMATH_PARAM(info_nce, reduction)]), c.out);
  const double k = symmetric ? 0.5 : 1.0;
  NceRowTerms(w.logits, n, k, w.ml, false, &terms);
  if (symmetric) {
    Mat(w.logits_t, n, n) = Mat(w.logits, n, n).transpose();
    NceRowTerms(w.logits_t, n, k, w.ml_t, true, &terms);
  }
  terms.Finish(static_cast<double>(n));
}

void InfoNceBackward(const GenCall<float>& c) {
  const int64_t n = c.in_shape[0][0], d = c.in_shape[0][1];
  const bool normalize = c.p[DLMATH_PARAM(info_nce, normalize)] != 0;
  const bool symmetric = c.p[DLMATH_PARAM(info_nce, symmetric)] != 0;
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(info_nce, reduction)]);
  const double k =
      (symmetric ? 0.5 : 1.0) / c.p[DLMATH_PARAM(info_nce, temperature)];
  const NceWs w = NceOf(c);
  NceRowGrad(w.logits, w.ml, n, c, r, k, w.g);
  if (symmetric) {
    NceRowGrad(w.logits_t, w.ml_t, n, c, r, k, w.g_t);
    Mat(w.g, n, n) += Mat(w.g_t, n, n).transpose();
  }
  if (c.din[0]) {
    Mat(w.dq, n, d).noalias() = Mat(w.g, n, n) * Mat(w.k, n, d);
    NceUnitBack(w.q, w.dq, w.qn, n, d, normalize, c.din[0]);
  }
  if (c.din[1]) {
    Mat(w.dk, n, d).noalias() = Mat(w.g, n, n).transpose() * Mat(w.q, n, d);
    NceUnitBack(w.k, w.dk, w.kn, n, d, normalize, c.din[1]);
  }
}

// ----- ctc -----------------------------------------------------------------
// log_probs [T, N, C], targets [N, S] (padded class indices), input_lengths
// [N] <= T, target_lengths [N] <= S. Each (t, n) row is renormalised by
// log_softmax (in double): a no-op on log_softmax outputs, and it makes
// PyTorch's gradient exp(lp) - exp(log sum_{s: l'_s = c} alpha beta + nll -
// lp) the exact gradient of what is computed. alpha / beta in log space, in
// double; t >= input_length gets no gradient; zero_infinity zeroes infinite
// losses and their gradients. 'mean' divides each loss by its target length
// (at least 1), then averages over N. Error: double throughout, then one
// float rounding (~6e-8). Nothing saved: backward reruns the recursions.

Status CtcShape(const ShapeCtx& c) {
  const Shape& lp = c.in[0];
  const int64_t T = lp.dim[0], N = lp.dim[1], C = lp.dim[2];
  const int64_t S = c.in[1].dim[1];
  const std::string op(c.op);
  if (c.in[1].dim[0] != N)
    return BadShape(c, 1,
                    "[" + std::to_string(N) + ", S] (one row " +
                        "per sample of log_probs " + lp.str() + ")",
                    c.in[1]);
  if (Status s = VectorOf(c, 2, N, "one length per sample"); !s.ok()) return s;
  if (Status s = VectorOf(c, 3, N, "one length per sample"); !s.ok()) return s;
  if (c.p[DLMATH_PARAM(ctc, blank)] >= C)
    return Status(ErrorCode::kBadParam, op, "blank",
                  "op '" + op + "': param 'blank' must be a class of " +
                      "log_probs, in [0, " + std::to_string(C) + "), got " +
                      Num(c.p[DLMATH_PARAM(ctc, blank)]));
  for (int64_t n = 0; n < N; ++n) {
    const float il = c.data[2][n], tl = c.data[3][n];
    if (il < 0 || il > T)
      return Status(ErrorCode::kBadValue, op, "input_lengths",
                    "op '" + op + "': input_lengths[" + std::to_string(n) +
                        "] = " + Num(il) + " is not in [0, " +
                        std::to_string(T) + "] (T of log_probs)");
    if (tl < 0 || tl > S)
      return Status(ErrorCode::kBadValue, op, "target_lengths",
                    "op '" + op + "': target_lengths[" + std::to_string(n) +
                        "] = " + Num(tl) + " is not in [0, " +
                        std::to_string(S) + "] (S of targets)");
    for (int64_t s = 0; s < static_cast<int64_t>(tl); ++s) {
      const float v = c.data[1][n * S + s];
      if (v < 0 || v >= C)
        return Status(ErrorCode::kBadValue, op, "targets",
                      "op '" + op + "': targets[" + std::to_string(n) + ", " +
                          std::to_string(s) + "] = " + Num(v) +
                          " is not a class index in [0, " + std::to_string(C) +
                          ")");
    }
  }
  return SetReduced(c, ReductionOf(c.p[DLMATH_PARAM(ctc, reduction)]),
                    Shape{N});
}

namespace {
double LogSum3(double a, double b, double c) {
  const double m = std::max(a, std::max(b, c));
  if (m == -INFINITY) return m;
  return m + std::log(std::exp(a - m) + std::exp(b - m) + std::exp(c - m));
}
// nll of sample n; with dx, also dx[t, n, :] += k d nll / d log_probs.
double CtcOne(const GenCall<float>& c, int64_t n, double k, float* dx) {
  const int64_t N = c.in_shape[0][1], C = c.in_shape[0][2];
  const int64_t S = c.in_shape[1][1];
  const int64_t T = static_cast<int64_t>(c.in[2][n]);
  const int64_t L = static_cast<int64_t>(c.in[3][n]);
  const int64_t blank = static_cast<int64_t>(c.p[DLMATH_PARAM(ctc, blank)]);
  const int64_t E = 2 * L + 1;
  if (T == 0) return L == 0 ? 0.0 : INFINITY;
  auto label = [&](int64_t s) {
    return s % 2 ? static_cast<int64_t>(c.in[1][n * S + s / 2]) : blank;
  };
  // Renormalised log-probabilities of the rows this sample uses.
  std::vector<double> lp(T * C);
  for (int64_t t = 0; t < T; ++t) {
    const float* x = c.in[0] + (t * N + n) * C;
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < C; ++j) m = std::max(m, double{x[j]});
    for (int64_t j = 0; j < C; ++j) s += std::exp(x[j] - m);
    const double lse = m + std::log(s);
    for (int64_t j = 0; j < C; ++j) lp[t * C + j] = x[j] - lse;
  }
  const double ninf = -INFINITY;
  std::vector<double> la(T * E, ninf);
  la[0] = lp[blank];
  if (E > 1) la[1] = lp[label(1)];
  for (int64_t t = 1; t < T; ++t) {
    const double* prev = &la[(t - 1) * E];
    for (int64_t s = 0; s < E; ++s) {
      const int64_t l = label(s);
      const double a = prev[s], b = s > 0 ? prev[s - 1] : ninf;
      const double e2 = s > 1 && label(s - 2) != l ? prev[s - 2] : ninf;
      la[t * E + s] = LogSum3(a, b, e2) + lp[t * C + l];
    }
  }
  const double ll = LogSum3(la[(T - 1) * E + E - 1],
                            E > 1 ? la[(T - 1) * E + E - 2] : ninf, ninf);
  const double nll = -ll;
  if (!dx) return nll;
  std::vector<double> lb(T * E, ninf);
  lb[(T - 1) * E + E - 1] = lp[(T - 1) * C + blank];
  if (E > 1) lb[(T - 1) * E + E - 2] = lp[(T - 1) * C + label(E - 2)];
  for (int64_t t = T - 2; t >= 0; --t) {
    const double* next = &lb[(t + 1) * E];
    for (int64_t s = 0; s < E; ++s) {
      const int64_t l = label(s);
      const double a = next[s], b = s + 1 < E ? next[s + 1] : ninf;
      const double e2 = s + 2 < E && label(s + 2) != l ? next[s + 2] : ninf;
      lb[t * E + s] = LogSum3(a, b, e2) + lp[t * C + l];
    }
  }
  std::vector<double> lcab(C);
  for (int64_t t = 0; t < T; ++t) {
    std::fill(lcab.begin(), lcab.end(), ninf);
    for (int64_t s = 0; s < E; ++s) {
      double& v = lcab[label(s)];
      v = LogSum3(v, la[t * E + s] + lb[t * E + s], ninf);
    }
    float* g = dx + (t * N + n) * C;
    for (int64_t j = 0; j < C; ++j) {
      const double z = lp[t * C + j];
      g[j] +=
          static_cast<float>(k * (std::exp(z) - std::exp(lcab[j] + nll - z)));
    }
  }
  return nll;
}
}  // namespace

void CtcForward(const GenCall<float>& c) {
  const int64_t N = c.in_shape[0][1];
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(ctc, reduction)]);
  Terms terms(r, c.out);
  for (int64_t n = 0; n < N; ++n) {
    double nll = CtcOne(c, n, 0, nullptr);
    if (c.p[DLMATH_PARAM(ctc, zero_infinity)] != 0 && std::isinf(nll)) nll = 0;
    terms.Set(n, r == kMean ? nll / std::max(1.0f, c.in[3][n]) : nll);
  }
  terms.Finish(static_cast<double>(N));
}

void CtcBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const int64_t N = c.in_shape[0][1];
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(ctc, reduction)]);
  for (int64_t n = 0; n < N; ++n) {
    if (c.p[DLMATH_PARAM(ctc, zero_infinity)] != 0 &&
        std::isinf(CtcOne(c, n, 0, nullptr)))
      continue;
    double k = r == kNone ? c.dy[n] : r == kMean ? c.dy[0] / N : c.dy[0];
    if (r == kMean) k /= std::max(1.0f, c.in[3][n]);
    CtcOne(c, n, k, c.din[0]);
  }
}

}  // namespace dlmath
#endif  // HWY_ONCE
