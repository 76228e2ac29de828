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

namespace {

// The `reduction` enum shared by the losses: "mean|sum|none".
enum Reduction { kMean = 0, kSum = 1, kNone = 2 };

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

}  // namespace dlmath
#endif  // HWY_ONCE
