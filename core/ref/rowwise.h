// Float64 references of the row-wise and General-form activations (softmax
// family, glu, prelu, swiglu): the oracle for the kernels. Clarity and PyTorch
// conventions over speed. Backward functions accumulate like the kernels.
#ifndef DLMATH_REF_ROWWISE_H_
#define DLMATH_REF_ROWWISE_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

// ----- row-wise (one row of n) ---------------------------------------------

inline double RowMax(const double* x, size_t n) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = (x[i] > m || std::isnan(x[i])) ? x[i] : m;
  return m;
}

inline void SoftmaxForward(const double* x, double* y, size_t n,
                           const double*) {
  const double m = RowMax(x, n);
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
  for (size_t i = 0; i < n; ++i) y[i] /= s;
}
inline void SoftmaxBackward(const double*, const double* y, const double* dy,
                            double* dx, double*, size_t n, const double*) {
  double dot = 0;
  for (size_t i = 0; i < n; ++i) dot += dy[i] * y[i];
  for (size_t i = 0; i < n; ++i) dx[i] += y[i] * (dy[i] - dot);
}

// log_softmax: y = (x - m) - log(sum e^(x - m)), never log(softmax). A NaN
// (or an all -inf / any +inf row, where x - m is NaN) gives a NaN row.
inline void LogSoftmaxForward(const double* x, double* y, size_t n,
                              const double*) {
  const double m = RowMax(x, n);
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  const double ls = std::log(s);
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
}
// dx = dy - softmax * sum(dy), softmax = e^y (PyTorch's formula).
inline void LogSoftmaxBackward(const double*, const double* y, const double* dy,
                               double* dx, double*, size_t n, const double*) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += dy[i];
  for (size_t i = 0; i < n; ++i) dx[i] += dy[i] - std::exp(y[i]) * sum;
}

// softmax(x / T), param temperature T > 0.
inline void SoftmaxTemperatureForward(const double* x, double* y, size_t n,
                                      const double* p) {
  const double t = p[DLMATH_PARAM(softmax_temperature, temperature)];
  double m = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    const double z = x[i] / t;
    m = (z > m || std::isnan(z)) ? z : m;
  }
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] / t - m));
  for (size_t i = 0; i < n; ++i) y[i] /= s;
}
inline void SoftmaxTemperatureBackward(const double*, const double* y,
                                       const double* dy, double* dx, double*,
                                       size_t n, const double* p) {
  double dot = 0;
  for (size_t i = 0; i < n; ++i) dot += dy[i] * y[i];
  const double t = p[DLMATH_PARAM(softmax_temperature, temperature)];
  for (size_t i = 0; i < n; ++i) dx[i] += y[i] * (dy[i] - dot) / t;
}

// logsumexp over the row -> one value. PyTorch's rule: shift by the max
// unless it is infinite (then by 0), so an all -inf or empty row gives -inf,
// a row with +inf gives +inf and a NaN anywhere gives NaN.
inline void LogsumexpForward(const double* x, double* y, size_t n,
                             const double*) {
  double m = RowMax(x, n);
  if (std::isinf(m)) m = 0;
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  y[0] = std::log(s) + m;
}
// dx = dy * e^(x - y) (the softmax); NaN where x = y = +-inf, like PyTorch.
inline void LogsumexpBackward(const double* x, const double* y,
                              const double* dy, double* dx, double*, size_t n,
                              const double*) {
  for (size_t i = 0; i < n; ++i) dx[i] += dy[0] * std::exp(x[i] - y[0]);
}

// glu: the row is a | b (halves of n); y = a * sigmoid(b), n/2 values.
inline double GluSigmoid(double v) {
  if (v >= 0) return 1 / (1 + std::exp(-v));
  const double e = std::exp(v);  // NaN lands here and stays NaN
  return e / (1 + e);
}
inline void GluForward(const double* x, double* y, size_t n, const double*) {
  const size_t h = n / 2;
  for (size_t i = 0; i < h; ++i) y[i] = x[i] * GluSigmoid(x[h + i]);
}
// da = dy * s, db = dy * a * s * (1 - s) with 1 - s = sigmoid(-b), which
// keeps its accuracy for large b.
inline void GluBackward(const double* x, const double*, const double* dy,
                        double* dx, double*, size_t n, const double*) {
  const size_t h = n / 2;
  for (size_t i = 0; i < h; ++i) {
    const double a = x[i], b = x[h + i];
    dx[i] += dy[i] * GluSigmoid(b);
    dx[h + i] += dy[i] * a * (GluSigmoid(b) * GluSigmoid(-b));
  }
}

// ----- General form ----------------------------------------------------------

// prelu: y = x > 0 ? x : w[c] * x, c the channel (dimension 1 when x has
// rank >= 2, else the only one); w has 1 value or one per channel. NaN stays
// NaN (the comparison is false), as in PyTorch's kernel.
struct PreluLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};
inline PreluLayout PreluDims(const Shape& x) {
  PreluLayout l;
  if (x.rank >= 2) {
    l.outer = x.dim[0];
    l.channels = x.dim[1];
    for (int k = 2; k < x.rank; ++k) l.inner *= x.dim[k];
  } else {
    l.outer = x.numel();
  }
  return l;
}
inline void PreluForward(const GenCall<double>& c) {
  const PreluLayout l = PreluDims(c.in_shape[0]);
  const bool shared = c.in_shape[1].numel() == 1;
  const double* x = c.in[0];
  const double* w = c.in[1];
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t ch = 0; ch < l.channels; ++ch)
      for (int64_t s = 0; s < l.inner; ++s) {
        const int64_t i = (o * l.channels + ch) * l.inner + s;
        const double wc = w[shared ? 0 : ch];
        c.out[i] = x[i] > 0 ? x[i] : wc * x[i];
      }
}
// dx = dy * (x > 0 ? 1 : w), dw[c] = sum over everything but the channel of
// dy * (x > 0 ? 0 : x).
inline void PreluBackward(const GenCall<double>& c) {
  const PreluLayout l = PreluDims(c.in_shape[0]);
  const bool shared = c.in_shape[1].numel() == 1;
  const double* x = c.in[0];
  const double* w = c.in[1];
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t ch = 0; ch < l.channels; ++ch)
      for (int64_t s = 0; s < l.inner; ++s) {
        const int64_t i = (o * l.channels + ch) * l.inner + s;
        const int64_t k = shared ? 0 : ch;
        const bool pos = x[i] > 0;
        if (c.din[0]) c.din[0][i] += c.dy[i] * (pos ? 1.0 : w[k]);
        if (c.din[1]) c.din[1][k] += pos ? 0.0 : c.dy[i] * x[i];
      }
}

// swiglu: y = silu(x W) * (x V); x [N, d], W and V [d, h], y [N, h].
// silu(a) = a / (1 + e^-a), PyTorch's form. The reference recomputes both
// products in backward instead of trusting the workspace.
inline double SwigluSilu(double a) { return a / (1 + std::exp(-a)); }
inline void SwigluProducts(const GenCall<double>& c, int64_t n, int64_t d,
                           int64_t h, double* a, double* b) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < h; ++j) {
      double sa = 0, sb = 0;
      for (int64_t k = 0; k < d; ++k) {
        sa += c.in[0][r * d + k] * c.in[1][k * h + j];
        sb += c.in[0][r * d + k] * c.in[2][k * h + j];
      }
      a[r * h + j] = sa;
      b[r * h + j] = sb;
    }
}
inline void SwigluForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0][0], d = c.in_shape[0][1];
  const int64_t h = c.in_shape[1][1];
  double* a = c.ws;
  double* b = c.ws + n * h;
  SwigluProducts(c, n, d, h, a, b);
  for (int64_t i = 0; i < n * h; ++i) c.out[i] = SwigluSilu(a[i]) * b[i];
}
// da = dy * b * silu'(a), silu'(a) = s (1 + a (1 - s)); db = dy * silu(a);
// dx = da W^T + db V^T, dW = x^T da, dV = x^T db.
inline void SwigluBackward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0][0], d = c.in_shape[0][1];
  const int64_t h = c.in_shape[1][1];
  std::vector<double> a(n * h), b(n * h), da(n * h), db(n * h);
  SwigluProducts(c, n, d, h, a.data(), b.data());
  for (int64_t i = 0; i < n * h; ++i) {
    const double s = 1 / (1 + std::exp(-a[i]));
    da[i] = c.dy[i] * b[i] * (s * (1 + a[i] * (1 - s)));
    db[i] = c.dy[i] * SwigluSilu(a[i]);
  }
  const double* x = c.in[0];
  const double* w = c.in[1];
  const double* v = c.in[2];
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k = 0; k < d; ++k)
      for (int64_t j = 0; j < h; ++j) {
        const double ga = da[r * h + j], gb = db[r * h + j];
        if (c.din[0])
          c.din[0][r * d + k] += ga * w[k * h + j] + gb * v[k * h + j];
        if (c.din[1]) c.din[1][k * h + j] += x[r * d + k] * ga;
        if (c.din[2]) c.din[2][k * h + j] += x[r * d + k] * gb;
      }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_ROWWISE_H_
