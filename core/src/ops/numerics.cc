// Numerics: gradient clipping and the textbook (unstable) softmax, logsumexp
// and binary cross-entropy that show float32 overflow next to the stable
// forms. The data-parallel parts are Highway kernels in numerics-inl.h.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/numerics.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/numerics-inl.h"
// clang-format on

#if HWY_ONCE
#include <cmath>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_numerics(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(PieceSquares)
DLMATH_HWY_EXPORT(Scale)

namespace {

enum Reduction { kMean = 0, kSum = 1, kNone = 2 };

Reduction ReductionOf(double param) {
  return static_cast<Reduction>(static_cast<int>(param));
}

// clip_grad_norm's torch-like eps in max_norm / (total + eps).
constexpr double kClipEps = 1e-6;

}  // namespace

// ----- clip_grad_norm
// --------------------------------------------------------- grads [n]: the
// concatenation of k tensors; sizes [k] (optional, integer): their lengths
// (absent: one piece). params max_norm, norm_type, inf_norm,
// error_if_nonfinite. y = grads * scale, scale = min(1, max_norm / (total +
// 1e-6)) as torch.nn.utils.clip_grad_norm_, total = ||grads||_p (the p-norm of
// the per-piece norms, which is the same number). aux: total_norm [1], scale
// [1], norms [k] (each piece's norm). Sums in double: the error is the float
// rounding of the result (~1e-7 relative).

Status ClipGradNormShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const int64_t n = c.in[0].numel();
  int64_t k = 1;
  if (c.data[1]) {
    k = c.in[1].numel();
    int64_t total = 0;
    for (int64_t i = 0; i < k; ++i) {
      const float s = c.data[1][i];
      if (s < 0)
        return Status(ErrorCode::kBadValue, op, "sizes",
                      "op '" + op + "': sizes[" + std::to_string(i) +
                          "] = " + std::to_string(static_cast<int64_t>(s)) +
                          " is negative; sizes are piece lengths");
      total += static_cast<int64_t>(s);
    }
    if (total != n)
      return Status(ErrorCode::kBadValue, op, "sizes",
                    "op '" + op + "': input 'sizes' must sum to the length " +
                        std::to_string(n) + " of 'grads' " + c.in[0].str() +
                        " (one length per concatenated tensor), got " +
                        std::to_string(total));
  }
  if (c.p[DLMATH_PARAM(clip_grad_norm, error_if_nonfinite)] !=
      0)  // error_if_nonfinite
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(c.data[0][i]))
        return Status(ErrorCode::kBadValue, op, "grads",
                      "op '" + op + "': the total norm is non-finite (grads[" +
                          std::to_string(i) +
                          "] = " + std::to_string(c.data[0][i]) +
                          ") and error_if_nonfinite is set");
  *c.out = c.in[0];
  c.aux[0] = Shape{1};
  c.aux[1] = Shape{1};
  c.aux[2] = Shape{k};
  return {};
}

void ClipGradNormForward(const GenCall<float>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int64_t k = c.in[1] ? c.in_shape[1].numel() : 1;
  const double p = c.p[DLMATH_PARAM(clip_grad_norm, norm_type)];
  const bool inf = c.p[DLMATH_PARAM(clip_grad_norm, inf_norm)] != 0;
  const float* g = c.in[0];
  double acc = 0;      // sum |g|^p, or the running max for the inf norm
  if (!inf && p == 2)  // every piece in one call (a training step's case)
    acc = DLMATH_DISPATCH(PieceSquares)(g, c.in[1], k, n, c.aux[2]);
  int64_t start = 0;
  for (int64_t j = 0; j < k && (inf || p != 2); ++j) {
    const int64_t len = c.in[1] ? static_cast<int64_t>(c.in[1][j]) : n;
    double piece = 0;
    if (inf) {
      for (int64_t i = start; i < start + len; ++i) {
        const double a = std::fabs(g[i]);
        piece = (a > piece || std::isnan(a)) ? a : piece;
      }
      acc = (piece > acc || std::isnan(piece)) ? piece : acc;
      c.aux[2][j] = static_cast<float>(piece);
    } else {
      for (int64_t i = start; i < start + len; ++i)
        piece += std::pow(std::fabs(double{g[i]}), p);
      acc += piece;
      c.aux[2][j] = static_cast<float>(std::pow(piece, 1 / p));
    }
    start += len;
  }
  const double total = inf      ? acc
                       : p == 2 ? std::sqrt(acc)
                                : std::pow(acc, 1 / p);
  const double coef =
      c.p[DLMATH_PARAM(clip_grad_norm, max_norm)] / (total + kClipEps);
  const double scale = coef > 1 ? 1 : coef;  // NaN stays NaN
  c.aux[0][0] = static_cast<float>(total);
  c.aux[1][0] = static_cast<float>(scale);
  // In place without clipping (scale 1: every product exact), nothing to do;
  // a training step measures its norms this way every step.
  if (scale != 1 || c.out != g)
    DLMATH_DISPATCH(Scale)(g, static_cast<float>(scale), c.out, n);
}

// ----- bce_naive
// --------------------------------------------------------------- input
// (logits) and target, same shape. The textbook chain in float32: s = 1 / (1 +
// e^-x), l = -(t log s + (1 - t) log(1 - s)). e^-x overflows for x < -88.7 (s =
// 0, log s = -inf), and 1 + e^-x rounds to 1 for x > 16.6 (s = 1, log(1 - s) =
// -inf): the loss turns inf or NaN (0 * -inf) where
// binary_cross_entropy_with_logits stays finite. Scalar loops on purpose: the
// point is the float32 libm chain. Backward is what autograd gets from that
// graph: dx = g (-t/s + (1-t)/(1-s)) s (1 - s), dt = -g (log s - log(1 - s)).
// Nothing saved (recomputed).

Status BceNaiveShape(const ShapeCtx& c) {
  if (!(c.in[0] == c.in[1])) {
    const std::string op(c.op);
    return Status(ErrorCode::kBadShape, op, "target",
                  "op '" + op + "': input 'target' must have the shape of " +
                      "'input' " + c.in[0].str() + ", got " + c.in[1].str());
  }
  *c.out = ReductionOf(c.p[DLMATH_PARAM(bce_naive, reduction)]) == kNone
               ? c.in[0]
               : Shape{};
  return {};
}

void BceNaiveForward(const GenCall<float>& c) {
  const int64_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(bce_naive, reduction)]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float x = c.in[0][i], t = c.in[1][i];
    const float s = 1.0f / (1.0f + std::exp(-x));
    const float l = -(t * std::log(s) + (1.0f - t) * std::log(1.0f - s));
    if (r == kNone) c.out[i] = l;
    sum += l;
  }
  if (r != kNone) c.out[0] = static_cast<float>(r == kMean ? sum / n : sum);
}

void BceNaiveBackward(const GenCall<float>& c) {
  const int64_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p[DLMATH_PARAM(bce_naive, reduction)]);
  const float k = r == kMean ? 1.0f / static_cast<float>(n) : 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float x = c.in[0][i], t = c.in[1][i];
    const float g = (r == kNone ? c.dy[i] : c.dy[0]) * k;
    const float s = 1.0f / (1.0f + std::exp(-x));
    const float q = 1.0f - s;
    if (c.din[0]) c.din[0][i] += g * ((-t / s + (1.0f - t) / q) * (s * q));
    if (c.din[1]) c.din[1][i] -= g * (std::log(s) - std::log(q));
  }
}

}  // namespace dlmath
#endif  // HWY_ONCE
