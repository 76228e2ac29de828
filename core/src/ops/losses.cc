// Losses: General-form ops (the reduction decides the output shape). The
// data-parallel parts are Highway kernels in losses-inl.h, dispatched here.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/losses.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/losses-inl.h"
// clang-format on

#if HWY_ONCE
#include <cmath>
#include <string>

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

namespace {

// The `reduction` enum shared by the losses: "mean|sum|none" (kl_div adds
// "batchmean").
enum Reduction { kMean = 0, kSum = 1, kNone = 2, kBatchMean = 3 };

Reduction ReductionOf(const double* p, int k) {
  return static_cast<Reduction>(static_cast<int>(p[k]));
}

Status SameShape(const ShapeCtx& c, int a, int b, const char* an,
                 const char* bn) {
  if (c.in[a] == c.in[b]) return {};
  return Status(ErrorCode::kBadShape, c.op, bn,
                "op '" + std::string(c.op) + "': input '" + bn +
                    "' must have the shape of '" + an + "' " + c.in[a].str() +
                    ", got " + c.in[b].str());
}

// What a reduced loss divides its sum by: n ('mean'), the first dimension
// ('batchmean'; 1 for a scalar, as PyTorch), else 1.
double Denominator(const Shape& s, Reduction r) {
  if (r == kMean) return static_cast<double>(s.numel());
  if (r == kBatchMean && s.rank > 0) return static_cast<double>(s.dim[0]);
  return 1;
}

// The output of a pointwise loss: the input's shape for 'none', else a
// scalar.
Status PointwiseOut(const ShapeCtx& c, int reduction_param) {
  *c.out = ReductionOf(c.p, reduction_param) == kNone ? c.in[0] : Shape{};
  return {};
}

// Optional input k, when given, must have input 0's shape.
Status SameShapeIfGiven(const ShapeCtx& c, int k, const char* name) {
  return c.data[k] ? SameShape(c, 0, k, "input", name) : Status{};
}

// kBadValue naming element i of input `name` and the domain it violates.
Status BadValue(const ShapeCtx& c, const char* name, int64_t i, float v,
                const char* domain) {
  const std::string op(c.op);
  return Status(ErrorCode::kBadValue, op, name,
                "op '" + op + "': input '" + name + "' must hold " + domain +
                    ", got " + name + "[" + std::to_string(i) +
                    "] = " + std::to_string(v));
}

// After a pointwise kernel summed the losses: 'none' has stored them, the
// reductions write out[0] = sum / Denominator.
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
float GradScale(const GenCall<float>& c, Reduction r) {
  return static_cast<float>(1.0 / Denominator(c.in_shape[0], r));
}

}  // namespace

// ----- mse: mean((input - target)^2) --------------------------------------
// input, target: any shape, equal. reduction 'none' keeps the shape, 'mean'
// and 'sum' give a scalar. Backward: d input = g * 2 (input - target) / n
// ('mean'), d target = -d input. Nothing saved.

Status MseShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1, "input", "target"); !s.ok()) return s;
  *c.out = ReductionOf(c.p, 0) == kNone ? c.in[0] : Shape{};
  return {};
}

void MseForward(const GenCall<float>& c) {
  const size_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p, 0);
  const double s = DLMATH_DISPATCH(SquaredDiff)(
      c.in[0], c.in[1], r == kNone ? c.out : nullptr, n);
  if (r != kNone) c.out[0] = static_cast<float>(r == kMean ? s / n : s);
}

void MseBackward(const GenCall<float>& c) {
  const size_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p, 0);
  const float k = r == kMean ? 2.0f / n : 2.0f;
  DLMATH_DISPATCH(SquaredDiffBackward)
  (c.in[0], c.in[1], c.dy, r == kNone ? 1 : 0, k, c.din[0], c.din[1], n);
}

// ----- nll: -weight[t_i] * input[i, t_i] ------------------------------------
// input [N, C] log-probabilities, target [N] class indices (or ignore_index),
// weight [C] optional. 'mean' divides by the summed weight of the targets
// that count (PyTorch), so all-ignored gives NaN. Gather-bound: plain loops.

Status NllShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const Shape& t = c.in[1];
  const std::string op(c.op);
  if (t.dim[0] != x.dim[0])
    return Status(ErrorCode::kBadShape, op, "target",
                  "op '" + op + "': input 'target' must have shape [" +
                      std::to_string(x.dim[0]) + "] (one class per row of " +
                      "input " + x.str() + "), got " + t.str());
  if (c.data[2] && !(c.in[2] == Shape{x.dim[1]}))
    return Status(ErrorCode::kBadShape, op, "weight",
                  "op '" + op + "': input 'weight' must have shape [" +
                      std::to_string(x.dim[1]) + "] (one per class), got " +
                      c.in[2].str());
  const int64_t classes = x.dim[1];
  const double ignore = c.p[1];
  for (int64_t i = 0; i < t.dim[0]; ++i) {
    const double v = c.data[1][i];
    if (v != ignore && (v < 0 || v >= classes))
      return Status(ErrorCode::kBadValue, op, "target",
                    "op '" + op + "': target[" + std::to_string(i) +
                        "] = " + std::to_string(static_cast<int64_t>(v)) +
                        " is not a class index in [0, " +
                        std::to_string(classes) + ") nor ignore_index " +
                        std::to_string(static_cast<int64_t>(ignore)));
  }
  *c.out = ReductionOf(c.p, 0) == kNone ? Shape{x.dim[0]} : Shape{};
  return {};
}

namespace {
// Weight of row i's target (0 when ignored), and the 'mean' denominator.
template <class T>
T NllWeight(const GenCall<T>& c, int64_t i) {
  const T t = c.in[1][i];
  if (t == static_cast<T>(c.p[1])) return 0;
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
  const Reduction r = ReductionOf(c.p, 0);
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
  const Reduction r = ReductionOf(c.p, 0);
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
  if (Status s = SameShape(c, 0, 1, "input", "target"); !s.ok()) return s;
  return PointwiseOut(c, 0);
}

void L1Forward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  StoreReduced(c, r,
               DLMATH_DISPATCH(AbsDiff)(c.in[0], c.in[1], NoneOut(c, r),
                                        c.in_shape[0].numel()));
}

void L1Backward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  DLMATH_DISPATCH(AbsDiffBackward)
  (c.in[0], c.in[1], c.dy, GradStride(r), GradScale(c, r), c.din[0], c.din[1],
   c.in_shape[0].numel());
}

// ----- huber: quadratic within delta of the target, linear beyond. -------

Status HuberShape(const ShapeCtx& c) { return L1Shape(c); }

void HuberForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(Huber)(c.in[0], c.in[1], static_cast<float>(c.p[1]),
                             NoneOut(c, r), c.in_shape[0].numel()));
}

void HuberBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  DLMATH_DISPATCH(HuberBackward)
  (c.in[0], c.in[1], c.dy, GradStride(r), GradScale(c, r),
   static_cast<float>(c.p[1]), c.din[0], c.din[1], c.in_shape[0].numel());
}

// ----- smooth_l1: huber / beta (beta = delta); beta = 0 is exactly l1. ----

Status SmoothL1Shape(const ShapeCtx& c) { return L1Shape(c); }

void SmoothL1Forward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  const float beta = static_cast<float>(c.p[1]);
  const size_t n = c.in_shape[0].numel();
  const double sum =
      beta == 0
          ? DLMATH_DISPATCH(AbsDiff)(c.in[0], c.in[1], NoneOut(c, r), n)
          : DLMATH_DISPATCH(SmoothL1)(c.in[0], c.in[1], beta, NoneOut(c, r), n);
  StoreReduced(c, r, sum);
}

void SmoothL1Backward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  const float beta = static_cast<float>(c.p[1]);
  const size_t n = c.in_shape[0].numel();
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
  if (Status s = SameShape(c, 0, 1, "input", "target"); !s.ok()) return s;
  if (Status s = SameShapeIfGiven(c, 2, "weight"); !s.ok()) return s;
  const int64_t n = c.in[0].numel();
  for (int64_t i = 0; i < n; ++i) {
    const float v = c.data[0][i];
    if (!(v >= 0 && v <= 1))
      return BadValue(c, "input", i, v, "probabilities in [0, 1]");
  }
  return PointwiseOut(c, 0);
}

void BceForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  StoreReduced(c, r,
               DLMATH_DISPATCH(Bce)(c.in[0], c.in[1], c.in[2], NoneOut(c, r),
                                    c.in_shape[0].numel()));
}

void BceBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  DLMATH_DISPATCH(BceBackward)
  (c.in[0], c.in[1], c.in[2], c.dy, GradStride(r), GradScale(c, r), c.din[0],
   c.din[1], c.in_shape[0].numel());
}

// ----- bce_with_logits: sigmoid + binary cross-entropy, fused. ------------
// input [..., C] logits, target and weight (optional) of its shape,
// pos_weight [C] (optional) broadcast along the last dimension: the kernel
// then runs once per row of C with pos_weight beside it.

Status BceWithLogitsShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1, "input", "target"); !s.ok()) return s;
  if (Status s = SameShapeIfGiven(c, 2, "weight"); !s.ok()) return s;
  if (c.data[3] && (c.in[0].rank == 0 || !(c.in[3] == Shape{c.in[0].cols()}))) {
    const std::string op(c.op);
    return Status(
        ErrorCode::kBadShape, op, "pos_weight",
        "op '" + op + "': input 'pos_weight' must have shape [" +
            std::to_string(c.in[0].cols()) + "] (the last dimension of input " +
            c.in[0].str() +
            (c.in[0].rank == 0 ? ", which must not be a scalar" : "") +
            "), got " + c.in[3].str());
  }
  return PointwiseOut(c, 0);
}

void BceWithLogitsForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  const float *x = c.in[0], *y = c.in[1], *w = c.in[2], *pw = c.in[3];
  float* out = NoneOut(c, r);
  const size_t n = c.in_shape[0].numel();
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
  const Reduction r = ReductionOf(c.p, 0);
  const float *x = c.in[0], *y = c.in[1], *w = c.in[2], *pw = c.in[3];
  float *dx = c.din[0], *dy = c.din[1];
  const size_t n = c.in_shape[0].numel(), stride = GradStride(r);
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

Status KlDivShape(const ShapeCtx& c) { return L1Shape(c); }

void KlDivForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  StoreReduced(c, r,
               DLMATH_DISPATCH(KlDiv)(c.in[0], c.in[1], c.p[1] != 0,
                                      NoneOut(c, r), c.in_shape[0].numel()));
}

void KlDivBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  DLMATH_DISPATCH(KlDivBackward)
  (c.in[0], c.in[1], c.p[1] != 0, c.dy, GradStride(r), GradScale(c, r),
   c.din[0], c.din[1], c.in_shape[0].numel());
}

// ----- poisson_nll: Poisson negative log-likelihood of counts. ------------
// params: reduction, log_input, full, eps.

Status PoissonNllShape(const ShapeCtx& c) { return L1Shape(c); }

void PoissonNllForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  StoreReduced(
      c, r,
      DLMATH_DISPATCH(PoissonNll)(c.in[0], c.in[1], c.p[1] != 0, c.p[2] != 0,
                                  static_cast<float>(c.p[3]), NoneOut(c, r),
                                  c.in_shape[0].numel()));
}

void PoissonNllBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  DLMATH_DISPATCH(PoissonNllBackward)
  (c.in[0], c.in[1], c.p[1] != 0, c.p[2] != 0, static_cast<float>(c.p[3]), c.dy,
   GradStride(r), GradScale(c, r), c.din[0], c.din[1], c.in_shape[0].numel());
}

// ----- gaussian_nll: Gaussian negative log-likelihood with a predicted ----
// variance. input, target, var of equal shape; var >= 0 (checked, as
// PyTorch). params: reduction, full, eps.

Status GaussianNllShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1, "input", "target"); !s.ok()) return s;
  if (Status s = SameShape(c, 0, 2, "input", "var"); !s.ok()) return s;
  const int64_t n = c.in[2].numel();
  for (int64_t i = 0; i < n; ++i)
    if (c.data[2][i] < 0)
      return BadValue(c, "var", i, c.data[2][i], "variances >= 0");
  return PointwiseOut(c, 0);
}

void GaussianNllForward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  StoreReduced(c, r,
               DLMATH_DISPATCH(GaussianNll)(
                   c.in[0], c.in[1], c.in[2], static_cast<float>(c.p[2]),
                   c.p[1] != 0, NoneOut(c, r), c.in_shape[0].numel()));
}

void GaussianNllBackward(const GenCall<float>& c) {
  const Reduction r = ReductionOf(c.p, 0);
  DLMATH_DISPATCH(GaussianNllBackward)
  (c.in[0], c.in[1], c.in[2], static_cast<float>(c.p[2]), c.dy, GradStride(r),
   GradScale(c, r), c.din[0], c.din[1], c.din[2], c.in_shape[0].numel());
}

}  // namespace dlmath
#endif  // HWY_ONCE
