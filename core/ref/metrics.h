// Float64 references of the metrics (entropy, kl_divergence,
// distribution_cross_entropy, perplexity), plain loops from the definitions:
// the oracle for core/src/ops/metrics.cc. Backward functions accumulate.
// The row metrics' params: base (of the log) and normalize.
#ifndef DLMATH_REF_METRICS_H_
#define DLMATH_REF_METRICS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

struct RefRowMetric {
  int kind;  // 0 entropy H(p), 1 KL(p || q), 2 cross-entropy H(p, q)
  double base;
  bool normalize;
};
template <OpId kOp>
RefRowMetric RefRowMetricOf(const GenCall<double>& c, int kind) {
  return {kind, c.p[DLMATH_PARAM_OF(kOp, base)],
          c.p[DLMATH_PARAM_OF(kOp, normalize)] != 0};
}

// Row r of input k, divided by its sum when normalize is on.
inline std::vector<double> MetricRow(const GenCall<double>& c, int k, int64_t r,
                                     bool normalize) {
  const int64_t cols = c.in_shape[0].cols();
  std::vector<double> x(c.in[k] + r * cols, c.in[k] + (r + 1) * cols);
  if (normalize) {
    double s = 0;
    for (double v : x) s += v;
    for (double& v : x) v /= s;
  }
  return x;
}
inline double RefXLogY(double x, double y) {
  return x == 0 ? 0 : x * std::log(y);
}

inline void RowMetricRefForward(const GenCall<double>& c, RefRowMetric m) {
  const int64_t rows = c.in_shape[0].rows();
  const int kind = m.kind;
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> p = MetricRow(c, 0, r, m.normalize);
    const std::vector<double> q =
        kind == 0 ? p : MetricRow(c, 1, r, m.normalize);
    double f = 0;
    for (size_t j = 0; j < p.size(); ++j) {
      if (kind == 0) f -= RefXLogY(p[j], p[j]);
      if (kind == 1) f += RefXLogY(p[j], p[j]) - RefXLogY(p[j], q[j]);
      if (kind == 2) f -= RefXLogY(p[j], q[j]);
    }
    c.out[r] = f / std::log(m.base);
  }
}
// Partials w.r.t. the normalised rows, then (normalize) through x / sum(x):
// dx_j = (d_j - sum_i x_hat_i d_i) / sum(x).
inline void RowMetricRefBackward(const GenCall<double>& c, RefRowMetric m) {
  const int64_t rows = c.in_shape[0].rows(), cols = c.in_shape[0].cols();
  const int kind = m.kind;
  const bool normalize = m.normalize;
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> p = MetricRow(c, 0, r, normalize);
    const std::vector<double> q = kind == 0 ? p : MetricRow(c, 1, r, normalize);
    std::vector<double> a(cols), b(cols, 0);
    for (int64_t j = 0; j < cols; ++j) {
      if (kind == 0) a[j] = -(std::log(p[j]) + 1);
      if (kind == 1) a[j] = std::log(p[j]) - std::log(q[j]) + 1;
      if (kind == 2) a[j] = -std::log(q[j]);
      if (kind != 0) b[j] = -p[j] / q[j];
    }
    const double g = c.dy[r] / std::log(m.base);
    for (int k = 0; k < (kind == 0 ? 1 : 2); ++k) {
      if (!c.din[k]) continue;
      const std::vector<double>& x = k == 0 ? p : q;
      const std::vector<double>& d = k == 0 ? a : b;
      double sum = 1, dot = 0;
      if (normalize) {
        sum = 0;
        for (int64_t j = 0; j < cols; ++j) sum += c.in[k][r * cols + j];
        for (int64_t j = 0; j < cols; ++j)
          if (x[j] != 0) dot += x[j] * d[j];
      }
      for (int64_t j = 0; j < cols; ++j)
        c.din[k][r * cols + j] += g * (d[j] - dot) / sum;
    }
  }
}

inline void EntropyForward(const GenCall<double>& c) {
  RowMetricRefForward(c, RefRowMetricOf<OpId::entropy>(c, 0));
}
inline void EntropyBackward(const GenCall<double>& c) {
  RowMetricRefBackward(c, RefRowMetricOf<OpId::entropy>(c, 0));
}
inline void KlDivergenceForward(const GenCall<double>& c) {
  RowMetricRefForward(c, RefRowMetricOf<OpId::kl_divergence>(c, 1));
}
inline void KlDivergenceBackward(const GenCall<double>& c) {
  RowMetricRefBackward(c, RefRowMetricOf<OpId::kl_divergence>(c, 1));
}
inline void DistributionCrossEntropyForward(const GenCall<double>& c) {
  RowMetricRefForward(c,
                      RefRowMetricOf<OpId::distribution_cross_entropy>(c, 2));
}
inline void DistributionCrossEntropyBackward(const GenCall<double>& c) {
  RowMetricRefBackward(c,
                       RefRowMetricOf<OpId::distribution_cross_entropy>(c, 2));
}

// ----- perplexity
// ------------------------------------------------------------- Mean negative
// log-likelihood of the tokens, from either form.
inline double PerplexityNll(const GenCall<double>& c) {
  double nll = 0;
  if (c.in[0]) {
    const int64_t t = c.in_shape[0][0];
    for (int64_t i = 0; i < t; ++i) nll -= c.in[0][i];
    return nll / t;
  }
  const int64_t t = c.in_shape[1][0], v = c.in_shape[1][1];
  for (int64_t i = 0; i < t; ++i) {
    const double* x = c.in[1] + i * v;
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < v; ++j) m = std::max(m, x[j]);
    for (int64_t j = 0; j < v; ++j) s += std::exp(x[j] - m);
    nll += m + std::log(s) - x[static_cast<int64_t>(c.in[2][i])];
  }
  return nll / t;
}
inline void PerplexityForward(const GenCall<double>& c) {
  c.out[0] = std::exp(PerplexityNll(c));
}
inline void PerplexityBackward(const GenCall<double>& c) {
  const double ppl = std::exp(PerplexityNll(c));
  if (c.in[0]) {
    const int64_t t = c.in_shape[0][0];
    if (c.din[0])
      for (int64_t i = 0; i < t; ++i) c.din[0][i] -= c.dy[0] * ppl / t;
    return;
  }
  if (!c.din[1]) return;
  const int64_t t = c.in_shape[1][0], v = c.in_shape[1][1];
  for (int64_t i = 0; i < t; ++i) {
    const double* x = c.in[1] + i * v;
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < v; ++j) m = std::max(m, x[j]);
    for (int64_t j = 0; j < v; ++j) s += std::exp(x[j] - m);
    const double k = c.dy[0] * ppl / t;
    for (int64_t j = 0; j < v; ++j)
      c.din[1][i * v + j] += k * std::exp(x[j] - m) / s;
    c.din[1][i * v + static_cast<int64_t>(c.in[2][i])] -= k;
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_METRICS_H_
