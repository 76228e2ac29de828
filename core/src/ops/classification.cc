// Classification, ranking and sequence losses: General-form ops (the
// reduction decides the output shape). The data-parallel row passes are
// Highway kernels in classification-inl.h, dispatched here; gathers and the
// CTC dynamic programme are plain loops. Legend: N samples, C classes, D
// features, T time steps, S target length.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/classification.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/classification-inl.h"
// clang-format on

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_losses(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(ClsRowMax)
DLMATH_HWY_EXPORT(ClsRowExpSum)
DLMATH_HWY_EXPORT(ClsRowWeightedGap)
DLMATH_HWY_EXPORT(ClsRowSoftmaxGrad)
DLMATH_HWY_EXPORT(MarginTerms)
DLMATH_HWY_EXPORT(MarginGrad)
DLMATH_HWY_EXPORT(ClsDot3)
DLMATH_HWY_EXPORT(ClsAxpy2)

namespace {

// The `reduction` enum: "mean|sum|none".
enum Reduction { kMean = 0, kSum = 1, kNone = 2 };

Reduction ReductionOf(const double* p, int k) {
  return static_cast<Reduction>(static_cast<int>(p[k]));
}

// Upstream gradient of term i: dy[i] ('none'), dy[0] ('sum'), dy[0] / denom
// ('mean').
float Upstream(const float* dy, Reduction r, int64_t i, double denom) {
  if (r == kNone) return dy[i];
  return r == kMean ? static_cast<float>(dy[0] / denom) : dy[0];
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Status BadShape(const ShapeCtx& c, const char* input, const std::string& want,
                const Shape& got) {
  const std::string op(c.op);
  return Status(ErrorCode::kBadShape, op, input,
                "op '" + op + "': input '" + input + "' must have shape " +
                    want + ", got " + got.str());
}

const char* InputName(const ShapeCtx& c, int k) {
  return FindOp(c.op)->inputs[k].name;
}

// Input b must have input a's shape.
Status SameShape(const ShapeCtx& c, int a, int b) {
  if (c.in[a] == c.in[b]) return {};
  return BadShape(c, InputName(c, b),
                  c.in[a].str() + " (the shape of '" + InputName(c, a) + "')",
                  c.in[b]);
}

// Input k must have shape [n] (`what` says why).
Status VectorOf(const ShapeCtx& c, int k, int64_t n, const char* what) {
  if (c.in[k] == Shape{n}) return {};
  return BadShape(c, InputName(c, k),
                  "[" + std::to_string(n) + "] (" + what + ")", c.in[k]);
}

// Every value of input k must be -1 or +1.
Status Signs(const ShapeCtx& c, int k) {
  const float* v = c.data[k];
  for (int64_t i = 0, n = c.in[k].numel(); i < n; ++i)
    if (v[i] != 1.0f && v[i] != -1.0f) {
      const std::string op(c.op);
      return Status(ErrorCode::kBadValue, op, InputName(c, k),
                    "op '" + op + "': input '" + InputName(c, k) + "' must " +
                        "hold labels -1 or 1; element [" + std::to_string(i) +
                        "] is " + Num(v[i]));
    }
  return {};
}

// Every value of input k must be a class index in [0, classes) (or equal
// `ignore` when has_ignore).
Status ClassIndices(const ShapeCtx& c, int k, int64_t classes,
                    bool has_ignore = false, double ignore = 0) {
  const float* v = c.data[k];
  const std::string op(c.op);
  for (int64_t i = 0, n = c.in[k].numel(); i < n; ++i) {
    if (!(std::floor(v[i]) == v[i]))
      return Status(ErrorCode::kBadType, op, InputName(c, k),
                    "op '" + op + "': input '" + InputName(c, k) +
                        "' holds class indices, which must be integers; " +
                        "element [" + std::to_string(i) + "] is " + Num(v[i]));
    if (has_ignore && v[i] == ignore) continue;
    if (v[i] < 0 || v[i] >= classes)
      return Status(ErrorCode::kBadValue, op, InputName(c, k),
                    "op '" + op + "': input '" + InputName(c, k) +
                        "' element [" + std::to_string(i) + "] = " + Num(v[i]) +
                        " is not a class index in [0, " +
                        std::to_string(classes) + ")" +
                        (has_ignore ? " nor ignore_index " + Num(ignore) : ""));
  }
  return {};
}

// Output: the per-term shape for 'none', else a scalar.
void SetReduced(const ShapeCtx& c, int k, const Shape& terms) {
  *c.out = ReductionOf(c.p, k) == kNone ? terms : Shape{};
}

// Sum and reduce per-term losses (double) into out.
void ReduceTerms(const std::vector<double>& terms, Reduction r, double denom,
                 float* out) {
  if (r == kNone) {
    for (size_t i = 0; i < terms.size(); ++i)
      out[i] = static_cast<float>(terms[i]);
    return;
  }
  double s = 0;
  for (double t : terms) s += t;
  out[0] = static_cast<float>(r == kMean ? s / denom : s);
}

}  // namespace
// ----- cross_entropy: log_softmax + nll, fused ------------------------------
// input [N, C] logits; target [N] class indices (or ignore_index) or [N, C]
// probabilities; weight [C] optional. Row i gets target weights a_c (index
// form: (1 - eps) w_t [c = t] + eps/C w_c; probabilities: w_c ((1 - eps)
// t_c + eps/C)), loss_i = A log S + sum_c a_c (m - x_c) with m the row max,
// S = sum e^(x - m), A = sum_c a_c: both parts >= 0, so logits of any finite
// size (1e4) stay accurate. 'mean' divides by the summed weights of the
// counted targets (index form) or by N (probabilities), as PyTorch.
// Backward: dx_c += g (A p_c - a_c), one pass per row. Saved: m, log S and A
// per row (workspace 3N). Error ~ 1e-7 relative.

Status CrossEntropyShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const int64_t rows = x.dim[0], classes = x.dim[1];
  if (c.in[1].rank == 1) {
    if (Status s = VectorOf(c, 1, rows, "one class index per row of input");
        !s.ok())
      return s;
    if (Status s = ClassIndices(c, 1, classes, true, c.p[1]); !s.ok()) return s;
  } else if (Status s = SameShape(c, 0, 1); !s.ok()) {
    return s;
  }
  if (c.data[2])
    if (Status s = VectorOf(c, 2, classes, "one weight per class"); !s.ok())
      return s;
  SetReduced(c, 0, Shape{rows});
  *c.workspace = 3 * rows;
  return {};
}

namespace {
struct CeRows {
  int64_t rows, classes;
  bool index;
  double eps, ignore, wall;  // wall: sum of the class weights (C if none)
  const float *x, *t, *w;
};
CeRows CeOf(const GenCall<float>& c) {
  CeRows e{c.in_shape[0][0], c.in_shape[0][1], c.in_shape[1].rank == 1,
           c.p[2],           c.p[1],           0,
           c.in[0],          c.in[1],          c.in[2]};
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
    if (e.t[i] != e.ignore) s += e.w ? e.w[static_cast<int64_t>(e.t[i])] : 1.0;
  return s;
}
}  // namespace

void CrossEntropyForward(const GenCall<float>& c) {
  const CeRows e = CeOf(c);
  const int64_t C = e.classes;
  std::vector<double> terms(e.rows, 0.0);
  for (int64_t i = 0; i < e.rows; ++i) {
    float* saved = c.ws + 3 * i;
    saved[0] = saved[1] = saved[2] = 0;
    const float* x = e.x + i * C;
    if (e.index && e.t[i] == e.ignore) continue;
    const float m = DLMATH_DISPATCH(ClsRowMax)(x, C);
    const double lse = std::log(DLMATH_DISPATCH(ClsRowExpSum)(x, C, m));
    double a_sum, loss;
    if (e.index) {
      const int64_t k = static_cast<int64_t>(e.t[i]);
      const double wt = e.w ? e.w[k] : 1.0;
      a_sum = (1 - e.eps) * wt + e.eps / C * e.wall;
      loss = (1 - e.eps) * wt * (double{m} - x[k]);
      if (e.eps > 0) {
        double unused;
        loss +=
            e.eps / C *
            DLMATH_DISPATCH(ClsRowWeightedGap)(x, e.w, nullptr, C, m, &unused);
      }
    } else {
      double wt_sum;
      loss = (1 - e.eps) * DLMATH_DISPATCH(ClsRowWeightedGap)(
                               x, e.w, e.t + i * C, C, m, &wt_sum);
      a_sum = (1 - e.eps) * wt_sum + e.eps / C * e.wall;
      if (e.eps > 0) {
        double unused;
        loss +=
            e.eps / C *
            DLMATH_DISPATCH(ClsRowWeightedGap)(x, e.w, nullptr, C, m, &unused);
      }
    }
    terms[i] = loss + a_sum * lse;
    saved[0] = m;
    saved[1] = static_cast<float>(lse);
    saved[2] = static_cast<float>(a_sum);
  }
  ReduceTerms(terms, ReductionOf(c.p, 0), CeDenominator(e), c.out);
}

void CrossEntropyBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const CeRows e = CeOf(c);
  const int64_t C = e.classes;
  const Reduction r = ReductionOf(c.p, 0);
  const double denom = r == kMean ? CeDenominator(e) : 1.0;
  for (int64_t i = 0; i < e.rows; ++i) {
    if (e.index && e.t[i] == e.ignore) continue;
    const float* saved = c.ws + 3 * i;
    const float g = Upstream(c.dy, r, i, denom);
    const float s = static_cast<float>(g * e.eps / C);
    const float u = static_cast<float>(g * (1 - e.eps));
    float* dx = c.din[0] + i * C;
    DLMATH_DISPATCH(ClsRowSoftmaxGrad)
    (e.x + i * C, e.w, e.index ? nullptr : e.t + i * C, saved[0], saved[1],
     g * saved[2], s, u, dx, C);
    if (e.index) {
      const int64_t k = static_cast<int64_t>(e.t[i]);
      dx[k] -= u * (e.w ? e.w[k] : 1.0f);
    }
  }
}

// ----- hinge: max(0, margin - y x) ------------------------------------------
// input, target: any shape, equal; target holds labels -1 / +1. Params
// margin, reduction. Backward: d input = -g y where margin - y x >= 0.

Status HingeShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  if (Status s = Signs(c, 1); !s.ok()) return s;
  SetReduced(c, 1, c.in[0]);
  return {};
}

void HingeForward(const GenCall<float>& c) {
  const size_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p, 1);
  const double s = DLMATH_DISPATCH(MarginTerms)(
      c.in[0], nullptr, c.in[1], static_cast<float>(c.p[0]),
      r == kNone ? c.out : nullptr, n);
  if (r != kNone) c.out[0] = static_cast<float>(r == kMean ? s / n : s);
}

void HingeBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const size_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p, 1);
  DLMATH_DISPATCH(MarginGrad)
  (c.in[0], nullptr, c.in[1], static_cast<float>(c.p[0]), c.dy,
   r == kNone ? 1 : 0, r == kMean ? 1.0f / n : 1.0f, c.din[0], nullptr, n);
}

// ----- margin_ranking: max(0, -y (x1 - x2) + margin) ------------------------
// input1, input2, target: any shape, equal; target -1 / +1. Params margin,
// reduction. Backward: d input1 = -g y, d input2 = g y where active.

Status MarginRankingShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  if (Status s = SameShape(c, 0, 2); !s.ok()) return s;
  if (Status s = Signs(c, 2); !s.ok()) return s;
  SetReduced(c, 1, c.in[0]);
  return {};
}

void MarginRankingForward(const GenCall<float>& c) {
  const size_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p, 1);
  const double s = DLMATH_DISPATCH(MarginTerms)(
      c.in[0], c.in[1], c.in[2], static_cast<float>(c.p[0]),
      r == kNone ? c.out : nullptr, n);
  if (r != kNone) c.out[0] = static_cast<float>(r == kMean ? s / n : s);
}

void MarginRankingBackward(const GenCall<float>& c) {
  const size_t n = c.in_shape[0].numel();
  const Reduction r = ReductionOf(c.p, 1);
  DLMATH_DISPATCH(MarginGrad)
  (c.in[0], c.in[1], c.in[2], static_cast<float>(c.p[0]), c.dy,
   r == kNone ? 1 : 0, r == kMean ? 1.0f / n : 1.0f, c.din[0], c.din[1], n);
}

// ----- cosine_embedding
// -------------------------------------------------------- input1, input2 [N,
// D], target [N] -1 / +1. cos = <a, b> / sqrt((|a|^2 + 1e-12)(|b|^2 + 1e-12))
// (PyTorch's epsilon on the squared norms); y = 1: 1 - cos, y = -1: max(0, cos
// - margin). Backward: d cos / d a = b / sqrt(..) - cos a / (|a|^2 + 1e-12),
// likewise for b. Nothing saved.

Status CosineEmbeddingShape(const ShapeCtx& c) {
  if (Status s = SameShape(c, 0, 1); !s.ok()) return s;
  if (Status s = VectorOf(c, 2, c.in[0].dim[0], "one label per row of input1");
      !s.ok())
    return s;
  if (Status s = Signs(c, 2); !s.ok()) return s;
  SetReduced(c, 1, Shape{c.in[0].dim[0]});
  return {};
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
  std::vector<double> terms(rows);
  for (int64_t i = 0; i < rows; ++i) {
    double na, nb;
    const double cs = CosRow(c, i, &na, &nb);
    terms[i] = c.in[2][i] > 0 ? 1 - cs : std::max(0.0, cs - c.p[0]);
  }
  ReduceTerms(terms, ReductionOf(c.p, 1), static_cast<double>(rows), c.out);
}

void CosineEmbeddingBackward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], d = c.in_shape[0][1];
  const Reduction r = ReductionOf(c.p, 1);
  for (int64_t i = 0; i < rows; ++i) {
    double na, nb;
    const double cs = CosRow(c, i, &na, &nb);
    double k;  // d loss / d cos
    if (c.in[2][i] > 0) {
      k = -1;
    } else {
      if (cs - c.p[0] < 0) continue;
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

// ----- multi_margin
// -------------------------------------------------------------- input [N, C],
// target [N] class indices, weight [C] optional. loss_i = w_y / C sum_{c != y}
// max(0, margin - x_y + x_c)^p, p in {1, 2}: divided by the number of classes
// C, as PyTorch; 'mean' then averages over N. Gather-bound rows: plain loops
// with double sums. Nothing saved.

Status MultiMarginShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  if (Status s = VectorOf(c, 1, x.dim[0], "one class index per row of input");
      !s.ok())
    return s;
  if (Status s = ClassIndices(c, 1, x.dim[1]); !s.ok()) return s;
  if (c.data[2])
    if (Status s = VectorOf(c, 2, x.dim[1], "one weight per class"); !s.ok())
      return s;
  SetReduced(c, 2, Shape{x.dim[0]});
  return {};
}

void MultiMarginForward(const GenCall<float>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const bool square = c.p[0] == 2;
  const float margin = static_cast<float>(c.p[1]);
  std::vector<double> terms(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = c.in[0] + i * classes;
    const int64_t y = static_cast<int64_t>(c.in[1][i]);
    double s = 0;
    for (int64_t j = 0; j < classes; ++j) {
      const float z = margin - x[y] + x[j];
      if (j != y && z > 0) s += square ? double{z} * z : z;
    }
    terms[i] = s * (c.in[2] ? c.in[2][y] : 1.0f) / classes;
  }
  ReduceTerms(terms, ReductionOf(c.p, 2), static_cast<double>(rows), c.out);
}

void MultiMarginBackward(const GenCall<float>& c) {
  if (!c.din[0]) return;
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const bool square = c.p[0] == 2;
  const float margin = static_cast<float>(c.p[1]);
  const Reduction r = ReductionOf(c.p, 2);
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

}  // namespace dlmath
#endif  // HWY_ONCE
