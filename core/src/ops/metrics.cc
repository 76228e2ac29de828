// Metrics over distributions and sequences: entropy, KL divergence, the
// cross-entropy between two distributions, perplexity. Legend: rows x C,
// C = the last dimension (one distribution per row); T tokens, V vocabulary.
// Gather- and log-bound with tiny rows: plain loops, logs in float, sums in
// double (relative error ~2e-7 for any row length).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/metrics.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/metrics-inl.h"
// clang-format on

#if HWY_ONCE
#include <cmath>
#include <cstdio>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_metrics(...) __VA_ARGS__
#include "core/src/ops/export.h"

namespace {

// Which of the three row metrics: H(p), KL(p || q), H(p, q), and their
// params (each row names its own).
enum class RowMetric { kEntropy, kKl, kCross };
struct RowMetricParams {
  double base;
  bool normalize;
};
template <OpId kOp>
RowMetricParams RowMetricOf(const double* p) {
  return {p[DLMATH_PARAM_OF(kOp, base)],
          p[DLMATH_PARAM_OF(kOp, normalize)] != 0};
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Inputs 0 (and 1 unless entropy) must be >= 0 and, with normalize, have
// positive row sums. Output: one value per row.
Status RowMetricShape(const ShapeCtx& c, int num_in, RowMetricParams mp) {
  const std::string op(c.op);
  static const char* kNames[] = {"p", "q"};
  if (num_in == 2 && !(c.in[0] == c.in[1]))
    return Status(ErrorCode::kBadShape, op, "q",
                  "op '" + op + "': input 'q' must have the shape of 'p' " +
                      c.in[0].str() + ", got " + c.in[1].str());
  const int64_t rows = c.in[0].rows(), cols = c.in[0].cols();
  for (int k = 0; k < num_in; ++k) {
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const float v = c.data[k][r * cols + j];
        if (!(v >= 0))
          return Status(ErrorCode::kBadValue, op, kNames[k],
                        "op '" + op + "': input '" + kNames[k] +
                            "' must hold probabilities (>= 0); element [" +
                            std::to_string(r * cols + j) + "] is " + Num(v));
        sum += v;
      }
      if (mp.normalize && !(sum > 0))
        return Status(ErrorCode::kBadValue, op, kNames[k],
                      "op '" + op + "': row " + std::to_string(r) +
                          " of input '" + kNames[k] +
                          "' sums to 0, so normalize cannot rescale it");
    }
  }
  *c.out = c.in[0];
  c.out->rank -= 1;
  return {};
}

// Row sums used to normalise (1 when normalize is off).
template <class T>
double RowScale(const T* x, int64_t cols, bool normalize) {
  if (!normalize) return 1;
  double s = 0;
  for (int64_t j = 0; j < cols; ++j) s += x[j];
  return s;
}

// x log y with 0 log y = 0 (also for y = 0), float logs.
inline double XLogY(float x, float y) {
  return x == 0 ? 0.0 : double{x} * std::log(y);
}

void RowMetricForward(const GenCall<float>& c, RowMetric m,
                      RowMetricParams mp) {
  const int64_t rows = c.in_shape[0].rows(), cols = c.in_shape[0].cols();
  const bool normalize = mp.normalize;
  const double inv_log_base = 1 / std::log(mp.base);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = c.in[0] + r * cols;
    const float* q = m == RowMetric::kEntropy ? p : c.in[1] + r * cols;
    const float sp = static_cast<float>(RowScale(p, cols, normalize));
    const float sq = static_cast<float>(RowScale(q, cols, normalize));
    double acc = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const float pj = p[j] / sp, qj = q[j] / sq;
      if (m == RowMetric::kKl)
        acc += XLogY(pj, pj) - XLogY(pj, qj);
      else
        acc -= XLogY(pj, qj);  // entropy: q = p
    }
    c.out[r] = static_cast<float>(acc * inv_log_base);
  }
}

// d/dp_hat = a, d/dq_hat = b (per element); with normalize the chain rule
// through x_hat = x / S gives dx_j = (d_j - sum_i x_hat_i d_i) / S.
void RowMetricBackward(const GenCall<float>& c, RowMetric m,
                       RowMetricParams mp) {
  const int64_t rows = c.in_shape[0].rows(), cols = c.in_shape[0].cols();
  const bool normalize = mp.normalize;
  const double inv_log_base = 1 / std::log(mp.base);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = c.in[0] + r * cols;
    const float* q = m == RowMetric::kEntropy ? p : c.in[1] + r * cols;
    const double sp = RowScale(p, cols, normalize);
    const double sq = RowScale(q, cols, normalize);
    const double g = c.dy[r] * inv_log_base;
    // a = d f / d p_hat, b = d f / d q_hat at element j (float logs).
    auto partials = [&](int64_t j, float* pj, float* qj, float* a, float* b) {
      *pj = static_cast<float>(p[j] / sp);
      *qj = static_cast<float>(q[j] / sq);
      *b = -*pj / *qj;
      switch (m) {
        case RowMetric::kEntropy:
          *a = -(std::log(*pj) + 1);
          *b = 0;
          break;
        case RowMetric::kKl:
          *a = std::log(*pj) - std::log(*qj) + 1;
          break;
        case RowMetric::kCross:
          *a = -std::log(*qj);
          break;
      }
    };
    float pj, qj, a, b;
    double dot_p = 0, dot_q = 0;  // sum x_hat * d, zero terms at x_hat = 0
    if (normalize) {
      for (int64_t j = 0; j < cols; ++j) {
        partials(j, &pj, &qj, &a, &b);
        if (pj != 0) dot_p += double{pj} * a;
        if (qj != 0) dot_q += double{qj} * b;
      }
    }
    for (int64_t j = 0; j < cols; ++j) {
      partials(j, &pj, &qj, &a, &b);
      if (c.din[0])
        c.din[0][r * cols + j] += static_cast<float>(g * (a - dot_p) / sp);
      if (m != RowMetric::kEntropy && c.din[1])
        c.din[1][r * cols + j] += static_cast<float>(g * (b - dot_q) / sq);
    }
  }
}

}  // namespace

// ----- entropy: -sum p log p / log(base) per row
// ------------------------------
Status EntropyShape(const ShapeCtx& c) {
  return RowMetricShape(c, 1, RowMetricOf<OpId::entropy>(c.p));
}
void EntropyForward(const GenCall<float>& c) {
  RowMetricForward(c, RowMetric::kEntropy, RowMetricOf<OpId::entropy>(c.p));
}
void EntropyBackward(const GenCall<float>& c) {
  RowMetricBackward(c, RowMetric::kEntropy, RowMetricOf<OpId::entropy>(c.p));
}

// ----- kl_divergence: sum p log(p / q) per row
// --------------------------------
Status KlDivergenceShape(const ShapeCtx& c) {
  return RowMetricShape(c, 2, RowMetricOf<OpId::kl_divergence>(c.p));
}
void KlDivergenceForward(const GenCall<float>& c) {
  RowMetricForward(c, RowMetric::kKl, RowMetricOf<OpId::kl_divergence>(c.p));
}
void KlDivergenceBackward(const GenCall<float>& c) {
  RowMetricBackward(c, RowMetric::kKl, RowMetricOf<OpId::kl_divergence>(c.p));
}

// ----- distribution_cross_entropy: -sum p log q per row
// -----------------------
Status DistributionCrossEntropyShape(const ShapeCtx& c) {
  return RowMetricShape(c, 2,
                        RowMetricOf<OpId::distribution_cross_entropy>(c.p));
}
void DistributionCrossEntropyForward(const GenCall<float>& c) {
  RowMetricForward(c, RowMetric::kCross,
                   RowMetricOf<OpId::distribution_cross_entropy>(c.p));
}
void DistributionCrossEntropyBackward(const GenCall<float>& c) {
  RowMetricBackward(c, RowMetric::kCross,
                    RowMetricOf<OpId::distribution_cross_entropy>(c.p));
}

// ----- perplexity
// --------------------------------------------------------------- Either
// log_probs [T] (natural-log probabilities of the observed tokens): ppl =
// exp(-mean(log_probs)); or logits [T, V] with targets [T]: ppl = exp(mean_t
// CE(logits_t, targets_t)), the log-softmax taken stably (max subtracted).
// Output: a scalar. Backward: d log_probs = -g ppl / T; d logits[t] = g ppl
// (softmax(logits_t) - onehot(targets_t)) / T. Forward saves the mean negative
// log-likelihood in ws[0].

Status PerplexityShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const bool lp = c.data[0], lg = c.data[1], tg = c.data[2];
  const std::string both =
      "; give either 'log_probs' [T] (the log-probability of each observed "
      "token) or 'logits' [T, V] together with 'targets' [T]";
  if (lp && (lg || tg))
    return Status(ErrorCode::kBadShape, op, lg ? "logits" : "targets",
                  "op '" + op + "': got 'log_probs' and also '" +
                      (lg ? "logits" : "targets") + "'" + both);
  if (!lp && !(lg && tg))
    return Status(ErrorCode::kMissingInput, op,
                  lg ? "targets" : (tg ? "logits" : "log_probs"),
                  "op '" + op + "' needs its token scores" + both);
  *c.out = Shape{};
  *c.workspace = 1;
  if (lp) return {};
  const Shape& x = c.in[1];
  if (!(c.in[2] == Shape{x.dim[0]}))
    return Status(ErrorCode::kBadShape, op, "targets",
                  "op '" + op + "': input 'targets' must have shape [" +
                      std::to_string(x.dim[0]) + "] (one token per row of " +
                      "logits " + x.str() + "), got " + c.in[2].str());
  for (int64_t t = 0; t < x.dim[0]; ++t) {
    const float v = c.data[2][t];
    if (v < 0 || v >= x.dim[1])
      return Status(ErrorCode::kBadValue, op, "targets",
                    "op '" + op + "': targets[" + std::to_string(t) +
                        "] = " + Num(v) + " is not a token index in [0, " +
                        std::to_string(x.dim[1]) + ")");
  }
  return {};
}

namespace {
// Stable max and log-sum-exp of one row of logits.
void RowLse(const float* x, int64_t v, float* max, double* lse) {
  float m = -INFINITY;
  for (int64_t j = 0; j < v; ++j) m = x[j] > m ? x[j] : m;
  double s = 0;
  for (int64_t j = 0; j < v; ++j) s += std::exp(x[j] - m);
  *max = m;
  *lse = m + std::log(s);
}
}  // namespace

void PerplexityForward(const GenCall<float>& c) {
  double nll = 0;
  if (c.in[0]) {
    const int64_t t = c.in_shape[0][0];
    for (int64_t i = 0; i < t; ++i) nll -= c.in[0][i];
    nll /= static_cast<double>(t);
  } else {
    const int64_t t = c.in_shape[1][0], v = c.in_shape[1][1];
    for (int64_t i = 0; i < t; ++i) {
      const float* x = c.in[1] + i * v;
      float m;
      double lse;
      RowLse(x, v, &m, &lse);
      nll += lse - x[static_cast<int64_t>(c.in[2][i])];
    }
    nll /= static_cast<double>(t);
  }
  c.ws[0] = static_cast<float>(nll);
  c.out[0] = static_cast<float>(std::exp(nll));
}

void PerplexityBackward(const GenCall<float>& c) {
  const double ppl = c.out[0];
  if (c.in[0]) {
    const int64_t t = c.in_shape[0][0];
    if (!c.din[0]) return;
    const float d = static_cast<float>(-c.dy[0] * ppl / t);
    for (int64_t i = 0; i < t; ++i) c.din[0][i] += d;
    return;
  }
  if (!c.din[1]) return;
  const int64_t t = c.in_shape[1][0], v = c.in_shape[1][1];
  const double k = c.dy[0] * ppl / t;
  for (int64_t i = 0; i < t; ++i) {
    const float* x = c.in[1] + i * v;
    float* dx = c.din[1] + i * v;
    float m;
    double lse;
    RowLse(x, v, &m, &lse);
    for (int64_t j = 0; j < v; ++j)
      dx[j] += static_cast<float>(k * std::exp(x[j] - lse));
    dx[static_cast<int64_t>(c.in[2][i])] -= static_cast<float>(k);
  }
}

}  // namespace dlmath
#endif  // HWY_ONCE
