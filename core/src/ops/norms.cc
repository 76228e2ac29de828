// Normalization: General-form ops following torch.nn.functional. Legend: B
// (N) batch, C channels, S the product of the spatial dimensions *, D the
// normalized last dimension. The reductions and affine passes are Highway
// kernels in norms-inl.h, dispatched here; forward saves mean and rstd per
// normalized block in the workspace for backward (llm.c's layernorm pattern).
// Backward ACCUMULATES (+=) into c.din[k] (null: not wanted).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/norms.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/norms-inl.h"
// clang-format on

#if HWY_ONCE
#include <cmath>
#include <string>
#include <vector>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_normalization(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(NormSum)
DLMATH_HWY_EXPORT(NormSqDev)
DLMATH_HWY_EXPORT(NormAffine)
DLMATH_HWY_EXPORT(NormScaleShift)
DLMATH_HWY_EXPORT(NormGradSums)
DLMATH_HWY_EXPORT(NormGradAccum)
DLMATH_HWY_EXPORT(NormRowBackward)
DLMATH_HWY_EXPORT(NormDot)
DLMATH_HWY_EXPORT(NormAxpy)

namespace {

Status ShapeError(const ShapeCtx& c, const char* input, const std::string& want,
                  const Shape& got) {
  const std::string op(c.op);
  return Status(ErrorCode::kBadShape, op, input,
                "op '" + op + "': input '" + input + "' must have shape " +
                    want + ", got " + got.str());
}

// Optional input k, when given, must be [len].
Status CheckVector(const ShapeCtx& c, int k, const char* name, int64_t len,
                   const char* what) {
  if (!c.data[k] || c.in[k] == Shape{len}) return {};
  return ShapeError(c, name, "[" + std::to_string(len) + "] (" + what + ")",
                    c.in[k]);
}

// Spatial size S of [N, C, *].
int64_t Spatial(const Shape& x) {
  int64_t s = 1;
  for (int i = 2; i < x.rank; ++i) s *= x.dim[i];
  return s;
}

float Rstd(double var, double eps) {
  return static_cast<float>(1.0 / std::sqrt(var + eps));
}

// ----- shared by group_norm and instance_norm -------------------------------
// x [N, C, S], groups of cpg = C / G consecutive channels; each (n, group)
// block of L = cpg S values is normalized, then channel c gets w[c], b[c].
// ws: mean[N G], rstd[N G].

void GroupForwardImpl(const float* x, const float* w, const float* b, float* y,
                      float* ws, int64_t n, int64_t ch, int64_t groups,
                      int64_t s, double eps) {
  const int64_t cpg = ch / groups, len = cpg * s;
  float* mean = ws;
  float* rstd = ws + n * groups;
  for (int64_t i = 0; i < n * groups; ++i) {
    const float* xb = x + i * len;
    const float m = static_cast<float>(DLMATH_DISPATCH(NormSum)(xb, len) / len);
    const double var = DLMATH_DISPATCH(NormSqDev)(xb, len, m) / len;
    mean[i] = m;
    rstd[i] = Rstd(var, eps);
    const int64_t c0 = (i % groups) * cpg;
    for (int64_t c = 0; c < cpg; ++c) {
      const float wc = w ? w[c0 + c] : 1.0f, bc = b ? b[c0 + c] : 0.0f;
      DLMATH_DISPATCH(NormScaleShift)
      (xb + c * s, y + i * len + c * s, s, m, rstd[i] * wc, bc);
    }
  }
}

void GroupBackwardImpl(const float* x, const float* w, const float* dy,
                       const float* ws, float* dx, float* dw, float* db,
                       int64_t n, int64_t ch, int64_t groups, int64_t s) {
  const int64_t cpg = ch / groups, len = cpg * s;
  const float* mean = ws;
  const float* rstd = ws + n * groups;
  for (int64_t i = 0; i < n * groups; ++i) {
    const int64_t c0 = (i % groups) * cpg;
    const float* xb = x + i * len;
    const float* gb = dy + i * len;
    double a1 = 0, a2 = 0;  // sum(dy w), sum(dy w (x - mean))
    for (int64_t c = 0; c < cpg; ++c) {
      double sums[2] = {0, 0};  // this channel's sum(dy), sum(dy (x - mean))
      DLMATH_DISPATCH(NormGradSums)(xb + c * s, gb + c * s, s, mean[i], sums);
      const double wc = w ? w[c0 + c] : 1.0;
      a1 += wc * sums[0];
      a2 += wc * sums[1];
      if (dw) dw[c0 + c] += static_cast<float>(rstd[i] * sums[1]);
      if (db) db[c0 + c] += static_cast<float>(sums[0]);
    }
    if (!dx) continue;
    const double r = rstd[i];
    const float bcoef = static_cast<float>(-r * r * r * a2 / len);
    const float ccoef = static_cast<float>(-r * a1 / len);
    for (int64_t c = 0; c < cpg; ++c) {
      const float wc = w ? w[c0 + c] : 1.0f;
      DLMATH_DISPATCH(NormGradAccum)
      (xb + c * s, gb + c * s, dx + i * len + c * s, s, mean[i], rstd[i] * wc,
       bcoef, ccoef);
    }
  }
}

}  // namespace

// ----- layer_norm: over the last dimension D ---------------------------------
// input [..., D] (rows R = numel / D), weight [D], bias [D] optional; p =
// {eps}. y = (x - mean) rstd w + b, biased variance. ws: mean[R], rstd[R].
// Error ~1e-7 relative to max(1, |y|) (double block sums).

Status LayerNormShape(const ShapeCtx& c) {
  const int64_t d = c.in[0].cols();
  if (Status s = CheckVector(c, 1, "weight", d, "the last dimension of input");
      !s.ok())
    return s;
  if (Status s = CheckVector(c, 2, "bias", d, "the last dimension of input");
      !s.ok())
    return s;
  *c.out = c.in[0];
  *c.workspace = 2 * c.in[0].rows();
  return {};
}

void LayerNormForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0].rows(), d = c.in_shape[0].cols();
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = c.in[0] + r * d;
    const float m = static_cast<float>(DLMATH_DISPATCH(NormSum)(x, d) / d);
    const double var = DLMATH_DISPATCH(NormSqDev)(x, d, m) / d;
    c.ws[r] = m;
    c.ws[rows + r] = Rstd(var, c.p[0]);
    DLMATH_DISPATCH(NormAffine)
    (x, c.in[1], c.in[2], c.out + r * d, d, m, c.ws[rows + r]);
  }
}

void LayerNormBackward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0].rows(), d = c.in_shape[0].cols();
  for (int64_t r = 0; r < rows; ++r) DLMATH_DISPATCH(NormRowBackward)
  (c.in[0] + r * d, c.in[1], c.dy + r * d,
   c.din[0] ? c.din[0] + r * d : nullptr, c.din[1], c.din[2], d, c.ws[r],
   c.ws[rows + r], 1);
}

// ----- rms_norm: x / sqrt(mean(x^2) + eps) * w -------------------------------
// input [..., D], weight [D] optional; p = {eps}. ws: rstd[R].

Status RmsNormShape(const ShapeCtx& c) {
  const int64_t d = c.in[0].cols();
  if (Status s = CheckVector(c, 1, "weight", d, "the last dimension of input");
      !s.ok())
    return s;
  *c.out = c.in[0];
  *c.workspace = c.in[0].rows();
  return {};
}

void RmsNormForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0].rows(), d = c.in_shape[0].cols();
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = c.in[0] + r * d;
    c.ws[r] = Rstd(DLMATH_DISPATCH(NormSqDev)(x, d, 0.0f) / d, c.p[0]);
    DLMATH_DISPATCH(NormAffine)
    (x, c.in[1], nullptr, c.out + r * d, d, 0.0f, c.ws[r]);
  }
}

void RmsNormBackward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0].rows(), d = c.in_shape[0].cols();
  for (int64_t r = 0; r < rows; ++r) DLMATH_DISPATCH(NormRowBackward)
  (c.in[0] + r * d, c.in[1], c.dy + r * d,
   c.din[0] ? c.din[0] + r * d : nullptr, c.din[1], nullptr, d, 0.0f, c.ws[r],
   0);
}

// ----- batch_norm: per channel over N and *
// ----------------------------------- input [N, C, *]; weight, bias,
// running_mean, running_var [C] optional; p = {training, momentum, eps}.
// Training: batch mean and biased variance normalize; aux running_mean/var = (1
// - m) running + m batch (unbiased variance L / (L - 1), L = N S; absent
// running stats start at 0 and 1). Eval: the running stats normalize and pass
// through to aux. ws: mean[C], rstd[C] (the ones used).

Status BatchNormShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const int64_t ch = x.dim[1];
  const char* names[] = {"", "weight", "bias", "running_mean", "running_var"};
  for (int k = 1; k <= 4; ++k)
    if (Status s = CheckVector(c, k, names[k], ch, "one per channel, dim 1");
        !s.ok())
      return s;
  const std::string op(c.op);
  const bool training = c.p[0] != 0;
  if (training && x.dim[0] * Spatial(x) < 2)
    return Status(ErrorCode::kBadShape, op, "input",
                  "op '" + op + "': training needs more than one value per " +
                      "channel (N * spatial > 1), got input " + x.str());
  if (!training) {
    for (int k = 3; k <= 4; ++k)
      if (!c.data[k])
        return Status(ErrorCode::kMissingInput, op, names[k],
                      "op '" + op + "': input '" + names[k] +
                          "' is required when training = 0 (eval uses the " +
                          "running statistics)");
    for (int64_t i = 0; i < ch; ++i)
      if (!(c.data[4][i] + c.p[2] > 0))
        return Status(ErrorCode::kBadValue, op, "running_var",
                      "op '" + op + "': running_var[" + std::to_string(i) +
                          "] + eps must be positive, got " +
                          std::to_string(c.data[4][i]));
  }
  *c.out = x;
  c.aux[0] = Shape{ch};
  c.aux[1] = Shape{ch};
  *c.workspace = 2 * ch;
  return {};
}

void BatchNormForward(const GenCall<float>& c) {
  const Shape& xs = c.in_shape[0];
  const int64_t n = xs.dim[0], ch = xs.dim[1], s = Spatial(xs), len = n * s;
  const float* x = c.in[0];
  const float *w = c.in[1], *b = c.in[2], *rm = c.in[3], *rv = c.in[4];
  const bool training = c.p[0] != 0;
  const double mom = c.p[1], eps = c.p[2];
  for (int64_t k = 0; k < ch; ++k) {
    float m;
    float r;
    if (training) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i)
        sum += DLMATH_DISPATCH(NormSum)(x + (i * ch + k) * s, s);
      m = static_cast<float>(sum / len);
      double sq = 0;
      for (int64_t i = 0; i < n; ++i)
        sq += DLMATH_DISPATCH(NormSqDev)(x + (i * ch + k) * s, s, m);
      r = Rstd(sq / len, eps);
      const double m0 = rm ? rm[k] : 0.0, v0 = rv ? rv[k] : 1.0;
      c.aux[0][k] = static_cast<float>((1 - mom) * m0 + mom * (sum / len));
      c.aux[1][k] = static_cast<float>((1 - mom) * v0 + mom * sq / (len - 1));
    } else {
      m = rm[k];
      r = Rstd(rv[k], eps);
      c.aux[0][k] = rm[k];
      c.aux[1][k] = rv[k];
    }
    c.ws[k] = m;
    c.ws[ch + k] = r;
    const float wk = w ? w[k] : 1.0f, bk = b ? b[k] : 0.0f;
    for (int64_t i = 0; i < n; ++i) DLMATH_DISPATCH(NormScaleShift)
    (x + (i * ch + k) * s, c.out + (i * ch + k) * s, s, m, r * wk, bk);
  }
}

void BatchNormBackward(const GenCall<float>& c) {
  const Shape& xs = c.in_shape[0];
  const int64_t n = xs.dim[0], ch = xs.dim[1], s = Spatial(xs), len = n * s;
  const float* x = c.in[0];
  const float* w = c.in[1];
  const bool training = c.p[0] != 0;
  for (int64_t k = 0; k < ch; ++k) {
    const float m = c.ws[k], r = c.ws[ch + k];
    double sums[2] = {0, 0};  // sum(dy), sum(dy (x - mean))
    for (int64_t i = 0; i < n; ++i) DLMATH_DISPATCH(NormGradSums)
    (x + (i * ch + k) * s, c.dy + (i * ch + k) * s, s, m, sums);
    if (c.din[1]) c.din[1][k] += static_cast<float>(r * sums[1]);
    if (c.din[2]) c.din[2][k] += static_cast<float>(sums[0]);
    if (!c.din[0]) continue;
    const double wk = w ? w[k] : 1.0, rd = r;
    // Training: the batch statistics depend on x too (the fused form);
    // eval: the running ones are constants.
    const float bcoef =
        training ? static_cast<float>(-rd * rd * rd * wk * sums[1] / len) : 0;
    const float ccoef =
        training ? static_cast<float>(-rd * wk * sums[0] / len) : 0;
    for (int64_t i = 0; i < n; ++i) DLMATH_DISPATCH(NormGradAccum)
    (x + (i * ch + k) * s, c.dy + (i * ch + k) * s, c.din[0] + (i * ch + k) * s,
     s, m, static_cast<float>(rd * wk), bcoef, ccoef);
  }
}

// ----- group_norm ------------------------------------------------------------
// input [N, C, *], weight, bias [C] optional; p = {num_groups, eps}.

Status GroupNormShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const int64_t ch = x.dim[1], groups = static_cast<int64_t>(c.p[0]);
  const std::string op(c.op);
  if (ch % groups != 0)
    return Status(ErrorCode::kBadParam, op, "num_groups",
                  "op '" + op + "': param 'num_groups' = " +
                      std::to_string(groups) + " must divide the " +
                      std::to_string(ch) + " channels of input " + x.str());
  for (int k = 1; k <= 2; ++k)
    if (Status s = CheckVector(c, k, k == 1 ? "weight" : "bias", ch,
                               "one per channel, dim 1");
        !s.ok())
      return s;
  *c.out = x;
  *c.workspace = 2 * x.dim[0] * groups;
  return {};
}

void GroupNormForward(const GenCall<float>& c) {
  const Shape& x = c.in_shape[0];
  GroupForwardImpl(c.in[0], c.in[1], c.in[2], c.out, c.ws, x.dim[0], x.dim[1],
                   static_cast<int64_t>(c.p[0]), Spatial(x), c.p[1]);
}

void GroupNormBackward(const GenCall<float>& c) {
  const Shape& x = c.in_shape[0];
  GroupBackwardImpl(c.in[0], c.in[1], c.dy, c.ws, c.din[0], c.din[1], c.din[2],
                    x.dim[0], x.dim[1], static_cast<int64_t>(c.p[0]),
                    Spatial(x));
}

// ----- instance_norm: group_norm with one channel per group ------------------
// input [N, C, *] (rank >= 3), weight, bias [C] optional; p = {eps}.

Status InstanceNormShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  for (int k = 1; k <= 2; ++k)
    if (Status s = CheckVector(c, k, k == 1 ? "weight" : "bias", x.dim[1],
                               "one per channel, dim 1");
        !s.ok())
      return s;
  *c.out = x;
  *c.workspace = 2 * x.dim[0] * x.dim[1];
  return {};
}

void InstanceNormForward(const GenCall<float>& c) {
  const Shape& x = c.in_shape[0];
  GroupForwardImpl(c.in[0], c.in[1], c.in[2], c.out, c.ws, x.dim[0], x.dim[1],
                   x.dim[1], Spatial(x), c.p[0]);
}

void InstanceNormBackward(const GenCall<float>& c) {
  const Shape& x = c.in_shape[0];
  GroupBackwardImpl(c.in[0], c.in[1], c.dy, c.ws, c.din[0], c.din[1], c.din[2],
                    x.dim[0], x.dim[1], x.dim[1], Spatial(x));
}

// ----- weight_norm: w = g v / ||v||
// -------------------------------------------- v [out, ...] (K = numel / out
// per row), g: out values ([out] or PyTorch's [out, 1, ...]) or, with dim = -1,
// one value or one per row; p = {dim}. dim 0: norm of each row; dim -1: of the
// whole tensor. ws: the norms.

Status WeightNormShape(const ShapeCtx& c) {
  const Shape& v = c.in[0];
  const int64_t out = v.rank ? v.dim[0] : 1, gn = c.in[1].numel();
  const bool all = c.p[0] < 0;
  if (!(gn == out || (all && gn == 1)))
    return ShapeError(c, "g",
                      all ? "of 1 or " + std::to_string(out) + " elements"
                          : "of " + std::to_string(out) +
                                " elements (one per row of v " + v.str() + ")",
                      c.in[1]);
  *c.out = v;
  *c.workspace = all ? 1 : out;
  return {};
}

void WeightNormForward(const GenCall<float>& c) {
  const Shape& vs = c.in_shape[0];
  const int64_t out = vs.rank ? vs.dim[0] : 1, k = vs.numel() / out;
  const bool all = c.p[0] < 0, one_g = c.in_shape[1].numel() == 1;
  const float* v = c.in[0];
  if (all)
    c.ws[0] = static_cast<float>(
        std::sqrt(DLMATH_DISPATCH(NormDot)(v, v, vs.numel())));
  for (int64_t i = 0; i < out; ++i) {
    const float* vi = v + i * k;
    const float nrm = all ? c.ws[0]
                          : (c.ws[i] = static_cast<float>(std::sqrt(
                                 DLMATH_DISPATCH(NormDot)(vi, vi, k))));
    const float g = c.in[1][one_g ? 0 : i];
    DLMATH_DISPATCH(NormAxpy)(vi, c.out + i * k, k, g / nrm, 0);
  }
}

void WeightNormBackward(const GenCall<float>& c) {
  const Shape& vs = c.in_shape[0];
  const int64_t out = vs.rank ? vs.dim[0] : 1, k = vs.numel() / out;
  const bool all = c.p[0] < 0, one_g = c.in_shape[1].numel() == 1;
  const float* v = c.in[0];
  std::vector<double> dots(out);
  double t = 0;  // dim -1: sum_i g_i (dy_i . v_i)
  for (int64_t i = 0; i < out; ++i) {
    dots[i] = DLMATH_DISPATCH(NormDot)(c.dy + i * k, v + i * k, k);
    t += c.in[1][one_g ? 0 : i] * dots[i];
  }
  for (int64_t i = 0; i < out; ++i) {
    const double nrm = all ? c.ws[0] : c.ws[i];
    const double g = c.in[1][one_g ? 0 : i];
    if (c.din[1]) c.din[1][one_g ? 0 : i] += static_cast<float>(dots[i] / nrm);
    if (!c.din[0]) continue;
    const double proj = (all ? t : g * dots[i]) / (nrm * nrm * nrm);
    DLMATH_DISPATCH(NormAxpy)
    (c.dy + i * k, c.din[0] + i * k, k, static_cast<float>(g / nrm), 1);
    DLMATH_DISPATCH(NormAxpy)
    (v + i * k, c.din[0] + i * k, k, static_cast<float>(-proj), 1);
  }
}

}  // namespace dlmath
#endif  // HWY_ONCE
